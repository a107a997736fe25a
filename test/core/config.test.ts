import { describe, expect, it } from 'vitest';
import {
  clientAddressSourceDefault,
  ConfigError,
  loadClientAddressConfig,
  loadCorsConfig,
  loadDatabaseConfig,
  loadProcessingConfig,
  loadSpacesConfig,
  loadUploadConfig,
  maxUploadBytesDefault,
  uploadsPerHourDefault,
} from '../../src/config.js';

const keyHash = 'a'.repeat(64);

describe('upload config', () => {
  it('needs a decision on who may upload: ALLOW_ANONYMOUS_UPLOADS, and keys when it is false', () => {
    expect(() => loadUploadConfig({})).toThrow(new ConfigError('ALLOW_ANONYMOUS_UPLOADS is required ("true" or "false")'));
    expect(() => loadUploadConfig({ ALLOW_ANONYMOUS_UPLOADS: 'false' })).toThrow(
      new ConfigError('API_KEYS is required when ALLOW_ANONYMOUS_UPLOADS=false (or set ALLOW_ANONYMOUS_UPLOADS=true)'),
    );
  });

  it('treats empty optional settings as their defaults', () => {
    const config = loadUploadConfig({ ALLOW_ANONYMOUS_UPLOADS: 'false', API_KEYS: keyHash, MAX_UPLOAD_BYTES: '', UPLOADS_PER_HOUR: ' ', ALLOWED_CONTENT_TYPES: '' });
    expect(config.maxUploadBytes).toBe(maxUploadBytesDefault);
    expect(config.uploadsPerHour).toBe(uploadsPerHourDefault);
    expect(config.allowedContentTypes).toContain('text/csv');
    expect(config.allowAnonymousUploads).toBe(false);
  });

  it('reads lists, booleans and numbers', () => {
    const config = loadUploadConfig({
      API_KEYS: `${keyHash}, ${'B'.repeat(64)}`,
      ALLOW_ANONYMOUS_UPLOADS: 'TRUE',
      ALLOWED_CONTENT_TYPES: 'image/*, Text/CSV',
      BYTES_PER_DAY: '1000',
      MULTIPART_THRESHOLD_BYTES: '9437184',
    });
    expect(config.apiKeyHashes).toEqual([keyHash, 'b'.repeat(64)]);
    expect(config.allowAnonymousUploads).toBe(true);
    expect(config.allowedContentTypes).toEqual(['image/*', 'text/csv']);
    expect(config.bytesPerDay).toBe(1000);
    expect(config.multipartThresholdBytes).toBe(9437184);
  });

  it.each([
    [{ API_KEYS: 'not-a-hash' }, /^API_KEYS is invalid/],
    [{ ALLOW_ANONYMOUS_UPLOADS: 'yes' }, /^ALLOW_ANONYMOUS_UPLOADS is invalid/],
    [{ ALLOW_ANONYMOUS_UPLOADS: 'true', MAX_UPLOAD_BYTES: '-1' }, /^MAX_UPLOAD_BYTES is invalid/],
    [{ ALLOW_ANONYMOUS_UPLOADS: 'true', UPLOADS_PER_HOUR: '1.5' }, /^UPLOADS_PER_HOUR is invalid/],
    [{ ALLOW_ANONYMOUS_UPLOADS: 'true', ALLOWED_CONTENT_TYPES: 'csv' }, /^ALLOWED_CONTENT_TYPES is invalid/],
  ])('rejects %o', (env, message) => {
    expect(() => loadUploadConfig(env)).toThrow(message);
  });
});

describe('processing config', () => {
  it('reads ALLOWED_CONTENT_TYPES exactly as the upload config does', () => {
    expect(loadProcessingConfig({ ALLOWED_CONTENT_TYPES: 'image/*, Text/CSV' }).allowedContentTypes).toEqual(['image/*', 'text/csv']);
    expect(() => loadProcessingConfig({ ALLOWED_CONTENT_TYPES: 'csv' })).toThrow(/^ALLOWED_CONTENT_TYPES is invalid/);
  });
});

describe('spaces config', () => {
  const base = { SPACES_BUCKET: 'sluice', SPACES_KEY: 'key', SPACES_SECRET: 'secret' };

  it('names the missing variable', () => {
    expect(() => loadSpacesConfig({ SPACES_ENDPOINT: 'https://nyc3.digitaloceanspaces.com', SPACES_KEY: 'k', SPACES_SECRET: 's' })).toThrow(
      'SPACES_BUCKET is required',
    );
  });

  it('uses virtual-hosted style and the region from a DigitalOcean endpoint', () => {
    const config = loadSpacesConfig({ ...base, SPACES_ENDPOINT: 'https://ams3.digitaloceanspaces.com/', SPACES_REGION: '' });
    expect(config).toMatchObject({ region: 'ams3', forcePathStyle: false, endpoint: 'https://ams3.digitaloceanspaces.com' });
  });

  it('uses path style for any other endpoint (the local S3 server)', () => {
    const config = loadSpacesConfig({ ...base, SPACES_ENDPOINT: 'http://127.0.0.1:3002', SPACES_REGION: 'us-east-1' });
    expect(config.forcePathStyle).toBe(true);
  });
});

describe('database config', () => {
  it.each(['require', 'prefer', 'allow'])('refuses unverified TLS: sslmode=%s without the CA', (sslMode) => {
    expect(() => loadDatabaseConfig({ DATABASE_URL: `postgresql://u:p@db.example.com:25060/defaultdb?sslmode=${sslMode}` })).toThrow(
      /^DATABASE_CA_CERT is required/,
    );
  });

  it('accepts verified TLS against the system roots without a CA', () => {
    const url = 'postgresql://u:p@db.example.com:25060/defaultdb?sslmode=verify-full';
    expect(loadDatabaseConfig({ DATABASE_URL: url })).toEqual({ url, caCert: undefined });
  });

  it('accepts a CA with escaped newlines or as base64', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const url = 'postgresql://u:p@db.example.com:25061/pool?sslmode=require';
    expect(loadDatabaseConfig({ DATABASE_URL: url, DATABASE_CA_CERT: pem.replace(/\n/g, '\\n') }).caCert).toBe(pem);
    expect(loadDatabaseConfig({ DATABASE_URL: url, DATABASE_CA_CERT: Buffer.from(pem).toString('base64') }).caCert).toBe(pem);
  });

  it('requires a postgres URL', () => {
    expect(() => loadDatabaseConfig({})).toThrow(/^DATABASE_URL is required/);
    expect(() => loadDatabaseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL is invalid/);
  });
});

describe('cors config', () => {
  it('lower-cases origins and rejects non-origins', () => {
    expect(loadCorsConfig({ ALLOWED_ORIGINS: 'https://App.example.com, http://localhost:3000' }).allowedOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    expect(() => loadCorsConfig({ ALLOWED_ORIGINS: 'https://example.com/path' })).toThrow(/^ALLOWED_ORIGINS is invalid/);
    expect(loadCorsConfig({}).allowedOrigins).toEqual([]);
  });
});

describe('client address config', () => {
  it('defaults to the right-most X-Forwarded-For entry, also for an empty value', () => {
    expect(clientAddressSourceDefault).toBe('x-forwarded-for:1');
    expect(loadClientAddressConfig({}).source).toEqual({ kind: 'x-forwarded-for', hopsFromRight: 1 });
    expect(loadClientAddressConfig({ CLIENT_ADDRESS_SOURCE: ' ' }).source).toEqual({ kind: 'x-forwarded-for', hopsFromRight: 1 });
  });

  it('reads hops from the right, or a header name (lower-cased, as the platform passes headers)', () => {
    expect(loadClientAddressConfig({ CLIENT_ADDRESS_SOURCE: 'X-Forwarded-For:2' }).source).toEqual({ kind: 'x-forwarded-for', hopsFromRight: 2 });
    expect(loadClientAddressConfig({ CLIENT_ADDRESS_SOURCE: 'CF-Connecting-IP' }).source).toEqual({ kind: 'header', name: 'cf-connecting-ip' });
  });

  it.each(['x-forwarded-for', 'x-forwarded-for:0', 'x-forwarded-for:-1', 'x-forwarded-for:1.5', 'x-forwarded-for:1:2', 'x-real-ip:1', 'cf connecting ip'])(
    'rejects %j with a message naming the variable',
    (value) => {
      expect(() => loadClientAddressConfig({ CLIENT_ADDRESS_SOURCE: value })).toThrow(/^CLIENT_ADDRESS_SOURCE is invalid: /);
    },
  );

  it('says how to fix a bare x-forwarded-for', () => {
    expect(() => loadClientAddressConfig({ CLIENT_ADDRESS_SOURCE: 'x-forwarded-for' })).toThrow(/x-forwarded-for:1/);
  });
});
