import type protobuf from 'protobufjs';

/**
 * How decoded protobuf messages become plain JS objects, everywhere in the server (the gRPC
 * handlers through proto-loader, warmup records through protobufjs): int64 as decimal strings
 * (exact; callers convert), enums as their names, bytes as Buffers (views into the message),
 * unset fields absent, repeated/map fields always present, and a virtual field naming the
 * chosen member of each oneof. Field names stay as in the .proto (`keepCase` at load time).
 */
export const PROTO_OBJECT_OPTIONS: Readonly<protobuf.IConversionOptions> = Object.freeze({
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: true,
});
