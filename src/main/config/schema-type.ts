/**
 * The TypeScript type of the data a JSON schema (written `as const`) accepts, once Ajv has
 * validated it and filled in its defaults: the raw config types are derived from the schema
 * with it (raw-config.ts), so the two cannot drift apart. It covers the keywords the config
 * schema uses: `type` (object, array, string, number, integer, boolean), `enum`,
 * `properties` with `required` and `default` (a key with a default is always present after
 * validation), `additionalProperties` as a map, and `items`. A schema without a `type` (e.g.
 * only a `description`) is `unknown`; the code reading it checks it itself.
 */
export type SchemaType<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: 'integer' | 'number' }
    ? number
    : S extends { readonly type: 'string' }
      ? string
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? SchemaType<I>[]
          : S extends { readonly type: 'array' }
            ? unknown[]
            : S extends { readonly type: 'object'; readonly properties: infer P }
              ? ObjectType<S, P>
              : S extends { readonly type: 'object'; readonly additionalProperties: false }
                ? Record<string, never>
                : S extends { readonly type: 'object'; readonly additionalProperties: infer A }
                  ? Record<string, SchemaType<A>>
                  : S extends { readonly type: 'object' }
                    ? Record<string, unknown>
                    : unknown;

/** Keys present in every valid value: listed in `required`, or with a `default`. */
type PresentKeys<S, P> =
  | (S extends { readonly required: readonly (infer R)[] } ? R & keyof P : never)
  | { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type ObjectType<S, P> = Simplify<
  { -readonly [K in keyof P as K extends PresentKeys<S, P> ? K : never]: SchemaType<P[K]> } & {
    -readonly [K in keyof P as K extends PresentKeys<S, P> ? never : K]?: SchemaType<P[K]>;
  }
>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
