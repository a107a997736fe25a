// Placeholder until the handler lands (issues 3 and 4).
export async function main(): Promise<Record<string, unknown>> {
  return { statusCode: 501, body: { error: { code: 'NOT_IMPLEMENTED', message: 'This function is not built yet.' } } };
}
