// Shared by the runtime and its worker program (action-proxy.ts).

/** Printed to stdout and stderr after every activation, as the real Node.js runtime does
 * (openwhisk-runtime-nodejs), so the runtime knows every log line of the activation has arrived. */
export const activationEndSentinel = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
