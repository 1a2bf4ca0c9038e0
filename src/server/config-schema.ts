/**
 * The JSON Schema of the collector's config file (`collector/config.schema.json` is generated
 * from it by `npm run build:collector`; editors validate a config that names it in `$schema`).
 * Built from DEFAULT_CONFIG's values (config.ts passes them in: CONFIG_SCHEMA).
 * tests/unit/server/config-schema.test.ts keeps it in step with parseConfig in config.ts: every
 * field of one is a field of the other, every example parses, defaults validate. The environment
 * variable of each setting is derived from its path here (config-env.ts).
 */
import { DETAIL_POLICIES } from '../shared/protocol.js';

type RateField = 'perMinute' | 'burst' | 'keyPerMinute' | 'keyBurst' | 'bytesPerMinute' | 'bytesBurst';

/** The defaults the schema shows (DEFAULT_CONFIG; declared here so the modules import one way). */
export interface SchemaDefaults {
  host: string;
  port: number;
  dataDir: string;
  limits: Record<
    | 'summariesBodyBytes'
    | 'summariesPerRequest'
    | 'uploadBytes'
    | 'decompressedBytes'
    | 'packageBytes'
    | 'packageEntries'
    | 'packageTotalBytes'
    | 'maxClockOffsetMs'
    | 'concurrentPackages',
    number
  >;
  rateLimit: Record<RateField, number>;
  adminFailureLimit: { perMinute: number; burst: number };
  uploadExpirationMs: number;
  cleanupIntervalMs: number;
  clockSkewThresholdMs: number;
  shutdownTimeoutMs: number;
  retention: { maxAgeDays: number; maxBytes: number; intervalMs: number };
  quota: { storedBytes: number; uploadBytes: number };
  messageCacheBytes: number;
}

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  default?: unknown;
  examples?: unknown[];
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  const?: string;
  $schema?: string;
  $id?: string;
  title?: string;
}

/** JSON Schema's if/then: these fields are required when `kind` has this value. */
const requiredWhenKind = (kind: string, required: string[]): JsonSchema => ({
  if: { properties: { kind: { const: kind } } },
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, never awaited
  then: { required },
});

const token = (description: string): JsonSchema => ({
  type: 'array',
  description,
  maxItems: 100,
  items: { type: 'string', minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
  examples: [['a-long-random-token-0001']],
});
const int = (description: string, minimum: number, def: number, maximum?: number): JsonSchema => ({
  type: 'integer',
  description,
  minimum,
  ...(maximum !== undefined ? { maximum } : {}),
  default: def,
  examples: [Math.max(minimum, def === minimum ? minimum + 1 : def)],
});
const bool = (description: string, def: boolean): JsonSchema => ({ type: 'boolean', description, default: def, examples: [!def] });

const rateFields = (R: Record<RateField, number>): Record<string, JsonSchema> => ({
  perMinute: int('Sustained requests per minute of one client (ingest key + client address).', 1, R.perMinute),
  burst: int('Requests one client may send at once before the rate applies.', 1, R.burst),
  keyPerMinute: int('Sustained requests per minute of the whole key, all clients together.', 1, R.keyPerMinute),
  keyBurst: int('Burst of the whole key.', 1, R.keyBurst),
  bytesPerMinute: int('Work per client: bytes received plus bytes inflated, per minute.', 1, R.bytesPerMinute),
  bytesBurst: int('Work a client may do at once.', 1, R.bytesBurst),
});

const quotaFields = (Q: SchemaDefaults['quota']): Record<string, JsonSchema> => ({
  storedBytes: int("A product's stored bytes (detail blobs + summaries) past which new detail is refused; 0: no limit.", 0, Q.storedBytes),
  uploadBytes: int(
    "Bytes of a product's unfinished uploads (declared lengths, the new one included) past which a new upload is refused; 0: no limit.",
    0,
    Q.uploadBytes,
  ),
});

export const configSchema = (D: SchemaDefaults): JsonSchema => {
  const L = D.limits;
  // The same two limits at the top level (the defaults) and per product (overrides).
  const retentionFields = {
    maxAgeDays: int('Sessions last received more than this many days ago are deleted; 0 keeps them forever.', 0, D.retention.maxAgeDays),
    maxBytes: int("A product's stored bytes above which its oldest sessions are deleted; 0: no limit.", 0, D.retention.maxBytes),
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://ferry-telemetry.dev/schema/collector-config.json',
    title: 'Ferry collector configuration',
    description: 'docs/server.md describes every setting; each is also an environment variable (FERRY_ + path in UPPER_SNAKE, levels joined by __).',
    type: 'object',
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'Path or URL of this schema (for editors).', maxLength: 4096 },
      comment: { type: 'string', description: 'Free text, ignored.', maxLength: 100_000 },
      host: { type: 'string', description: 'Address to listen on.', minLength: 1, maxLength: 255, default: D.host, examples: ['0.0.0.0'] },
      port: int('Port to listen on (0 picks a free one).', 0, D.port, 65535),
      publicUrl: {
        type: 'string',
        description: 'The origin clients reach the collector at (behind a proxy); upload URLs are built from it.',
        pattern: '^https?://[^/]+/?$',
        maxLength: 2048,
        examples: ['https://collector.example.com'],
      },
      trustProxy: bool('Trust X-Forwarded-For/-Host/-Proto (client address for rate limits, upload URLs). Only behind a proxy that sets them.', false),
      dataDir: {
        type: 'string',
        description: 'Embedded database, local blobs and uploads in progress.',
        minLength: 1,
        maxLength: 4096,
        default: D.dataDir,
        examples: ['/var/lib/ferry'],
      },
      store: {
        type: 'object',
        description: 'The database: embedded SQLite in dataDir, or PostgreSQL (replicas).',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { type: 'string', enum: ['sqlite', 'postgres'], default: 'sqlite', examples: ['postgres'] },
          url: {
            type: 'string',
            description: 'postgres://user:pass@host:5432/db',
            pattern: '^postgres(ql)?://',
            maxLength: 4096,
            examples: ['postgres://ferry@db:5432/ferry'],
          },
          poolSize: int('Connections per replica.', 1, 10, 1000),
        },
        allOf: [requiredWhenKind('postgres', ['url'])],
      },
      migrateOnStart: bool('Migrate the database at start-up; with false run `ferry-collector migrate` first (not ready until then).', true),
      blobs: {
        type: 'object',
        description: 'Where session blobs and uploads in progress live: dataDir (files) or an S3 bucket (AWS S3, MinIO, R2; what replicas share).',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { type: 'string', enum: ['files', 's3'], default: 'files', examples: ['s3'] },
          bucket: { type: 'string', minLength: 3, maxLength: 63, pattern: '^[a-z0-9][a-z0-9.-]+[a-z0-9]$', examples: ['ferry-blobs'] },
          region: { type: 'string', pattern: '^[a-z0-9-]+$', minLength: 1, maxLength: 64, default: 'us-east-1', examples: ['eu-west-1'] },
          endpoint: {
            type: 'string',
            description: 'For S3-compatible services; none for AWS S3.',
            pattern: '^https?://[^/]+/?$',
            maxLength: 2048,
            examples: ['http://minio:9000'],
          },
          forcePathStyle: bool('Bucket in the path, not the host name (MinIO and most self-hosted services).', false),
          prefix: {
            type: 'string',
            description: 'Prepended to every object key.',
            pattern: '^([A-Za-z0-9._-]+/)*$',
            maxLength: 200,
            default: '',
            examples: ['ferry/'],
          },
          accessKeyId: {
            type: 'string',
            description: "Without it the SDK's default chain applies (AWS_* variables, profile, instance role).",
            minLength: 1,
            maxLength: 256,
            examples: ['AKIAEXAMPLE'],
          },
          secretAccessKey: { type: 'string', minLength: 1, maxLength: 256, examples: ['secret-example'] },
        },
        allOf: [requiredWhenKind('s3', ['bucket'])],
      },
      adminTokens: token('Bearer tokens for the read API and the viewer (one is generated per run when none is set).'),
      metricsTokens: token('Bearer tokens for GET /metrics only (a scraper); admin tokens are accepted too.'),
      products: {
        type: 'object',
        description: 'Products by name, each with its detail policy and ingest keys.',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['keys'],
          properties: {
            policy: { type: 'string', enum: DETAIL_POLICIES, default: 'error-or-worse' },
            keys: {
              type: 'array',
              maxItems: 1000,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['key', 'origins'],
                properties: {
                  key: { type: 'string', minLength: 8, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
                  origins: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 2048 } },
                  rateLimit: { type: 'object', additionalProperties: false, properties: rateFields(D.rateLimit) },
                },
              },
            },
            emailTo: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 3, maxLength: 320 } },
            retention: {
              type: 'object',
              description: "This product's retention, over the top-level retention defaults.",
              additionalProperties: false,
              properties: {
                ...retentionFields,
              },
            },
            quota: {
              type: 'object',
              description: "This product's disk quota, over the top-level quota.",
              additionalProperties: false,
              properties: quotaFields(D.quota),
            },
          },
        },
        examples: [{ shop: { policy: 'all', keys: [{ key: 'shop-ingest-key-0001', origins: ['https://shop.example.com'] }] } }],
      },
      limits: {
        type: 'object',
        description: 'Sizes the collector accepts.',
        additionalProperties: false,
        properties: {
          summariesBodyBytes: int('Bytes of one POST of summaries.', 1, L.summariesBodyBytes),
          summariesPerRequest: int('Summaries in one POST.', 1, L.summariesPerRequest),
          uploadBytes: int('Compressed bytes of one detail upload (Upload-Length).', 1, L.uploadBytes),
          decompressedBytes: int("Decompressed NDJSON bytes of one session's detail.", 1, L.decompressedBytes),
          packageBytes: int('Bytes of one package (zip).', 1, L.packageBytes),
          packageEntries: int('Entries in one package.', 1, L.packageEntries),
          packageTotalBytes: int('Decompressed bytes of all entries of one package.', 1, L.packageTotalBytes),
          maxClockOffsetMs: int(
            'The largest agent clock error corrected (ms, either way); a sentAt further off is clamped to it, not trusted.',
            1,
            L.maxClockOffsetMs,
          ),
          concurrentPackages: int(
            'Package bodies (POST /packages and /packages/email) handled at once; more answer 503 with Retry-After, unread.',
            1,
            L.concurrentPackages,
          ),
        },
      },
      uploadExpirationMs: int('Unfinished uploads older than this answer 410 and are deleted.', 1000, D.uploadExpirationMs),
      cleanupIntervalMs: int('How often expired uploads and refilled rate buckets are cleaned up.', 100, D.cleanupIntervalMs),
      clockSkewThresholdMs: int('Agent clocks off by more than this are corrected.', 0, D.clockSkewThresholdMs),
      rateLimit: { type: 'object', description: 'Default rate limits of every ingest key.', additionalProperties: false, properties: rateFields(D.rateLimit) },
      adminFailureLimit: {
        type: 'object',
        description: 'Failed admin-token attempts allowed per client address.',
        additionalProperties: false,
        properties: {
          perMinute: int('Sustained failed attempts per minute.', 1, D.adminFailureLimit.perMinute),
          burst: int('Failed attempts at once.', 1, D.adminFailureLimit.burst),
        },
      },
      email: {
        type: 'object',
        description: 'SMTP relay for POST /packages/email.',
        additionalProperties: false,
        required: ['smtp', 'from'],
        properties: {
          smtp: {
            type: 'object',
            additionalProperties: false,
            required: ['host'],
            properties: {
              host: { type: 'string', minLength: 1, maxLength: 255, examples: ['smtp.example.com'] },
              port: int('SMTP port.', 1, 587, 65535),
              secure: bool('TLS from the start (port 465); otherwise STARTTLS when offered.', false),
              user: { type: 'string', maxLength: 512, examples: ['ferry'] },
              pass: { type: 'string', maxLength: 512, examples: ['smtp-password'] },
            },
          },
          from: { type: 'string', minLength: 3, maxLength: 320, examples: ['ferry@example.com'] },
          to: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 3, maxLength: 320 }, examples: [['support@example.com']] },
        },
      },
      log: {
        type: 'object',
        additionalProperties: false,
        properties: {
          level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], default: 'info', examples: ['warn'] },
          format: { type: 'string', enum: ['json', 'pretty'], default: 'json', examples: ['pretty'] },
          requests: bool('Log successful requests (errors are always logged).', true),
        },
      },
      shutdownTimeoutMs: int('How long a graceful shutdown waits for requests in flight.', 0, D.shutdownTimeoutMs),
      viewer: bool('Serve the viewer at /viewer/.', true),
      retention: {
        type: 'object',
        description: 'Deletion of old data, per product (products.<name>.retention overrides); runs at start-up and every intervalMs.',
        additionalProperties: false,
        properties: {
          ...retentionFields,
          intervalMs: int('How often retention runs.', 1000, D.retention.intervalMs),
        },
      },
      quota: {
        type: 'object',
        description: 'Disk each product may take (products.<name>.quota overrides); past it new detail is refused with 507 and Retry-After.',
        additionalProperties: false,
        properties: quotaFields(D.quota),
      },
      messageCacheBytes: int("Heap the read API's cache of decoded sessions may take (estimated).", 0, D.messageCacheBytes),
      indexing: bool('Index stored detail for exception groups and search.', true),
      static: {
        type: 'array',
        description: 'Extra static folders.',
        maxItems: 20,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['prefix', 'dir'],
          properties: {
            prefix: { type: 'string', minLength: 2, maxLength: 200, pattern: '^/[A-Za-z0-9._/-]*/$' },
            dir: { type: 'string', minLength: 1, maxLength: 4096 },
          },
        },
        examples: [[{ prefix: '/demo/', dir: './demo' }]],
      },
    },
  };
};
