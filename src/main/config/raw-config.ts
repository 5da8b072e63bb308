import type {
  batchingSchema,
  modelSchema,
  serverConfigSchema,
  versionPolicySchema,
  warmupDeclSchema,
} from './schema.js';
import type { SchemaType } from './schema-type.js';

/**
 * The raw YAML shapes of the server config, as the schema (schema.ts) has validated them
 * and Ajv has filled in their defaults: snake_case keys, nothing resolved. Derived from the
 * schema (schema-type.ts), so a key added there appears here. Only the config layer reads
 * them; everything else gets the resolved ServerConfig / ModelConfig.
 */

export type RawConfig = SchemaType<typeof serverConfigSchema>;
export type RawModel = SchemaType<typeof modelSchema>;
export type RawBatching = SchemaType<typeof batchingSchema>;
export type RawWarmupDecl = SchemaType<typeof warmupDeclSchema>;
export type RawPolicy = SchemaType<typeof versionPolicySchema>;

/** The `model_defaults` section: what models inherit when they do not say. */
export type ModelDefaults = RawConfig['model_defaults'];
