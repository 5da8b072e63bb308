/**
 * Which version of a model a request asks for: the latest available one, a number, or a
 * label. Built by the front ends from the wire (TF Serving `model_spec`, KServe paths) and
 * resolved by the lifecycle manager; tenancy passes it through to its not-found errors.
 */
export type VersionSelector =
  | { readonly kind: 'latest' }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'label'; readonly label: string };
