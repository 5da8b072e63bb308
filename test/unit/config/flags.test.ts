import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/main/config/config-error.js';
import { closestFlag } from '../../../src/main/config/flag-parser.js';
import { FLAG_TABLE, FLAGS_BY_NAME } from '../../../src/main/config/flag-table.js';
import {
  type CommandLine,
  parseFlags,
  resolveCommandLine,
  UNBATCHED_MAX_BATCH_SIZE,
  USAGE,
} from '../../../src/main/config/flags.js';
import { REPO_ROOT } from '../../fixtures/repo-root.js';

/** Every flag of protocols.md §9, with the seeds' two internal names. */
const SECTION_9 = [
  'port',
  'rest_api_port',
  'rest_api_timeout_in_ms',
  'rest_api_num_threads',
  'rest_api_enable_cors_support',
  'enable_batching',
  'batching_parameters_file',
  'model_config_file',
  'model_config_file_poll_wait_seconds',
  'model_name',
  'model_base_path',
  'num_load_threads',
  'num_unload_threads',
  'max_num_load_retries',
  'load_retry_interval_micros',
  'file_system_poll_wait_seconds',
  'tensorflow_session_parallelism',
  'tensorflow_intra_op_parallelism',
  'tensorflow_inter_op_parallelism',
  'per_process_gpu_memory_fraction',
  'ssl_config_file',
  'monitoring_config_file',
  'platform_config_file',
  'saved_model_tags',
  'grpc_channel_arguments',
  'grpc_max_threads',
  'enable_model_warmup',
  'num_request_iterations_for_warmup',
  'enable_grpc_healthcheck_service',
  'version',
  'grpc_port',
  'fs_model_config_poll_wait_seconds',
];

const dir = mkdtempSync(path.join(tmpdir(), 'ts-flags-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const yaml = file(
  'server.yaml',
  `server:
  rest_api_port: 9000
  grpc_port: 9001
  default_request_timeout_ms: 5
  model_config_file_poll_wait_seconds: 7
devices:
  cpu: { workers: 1, intra_op_threads: 2 }
  cuda:0: { workers: 1 }
  cuda:1: { workers: 1, memory_budget_bytes: 5 }
model_defaults:
  batching: { max_batch_size: 8, batch_timeout_micros: 50 }
  load_retries: 1
models:
  - name: y
    base_path: ./y
  - name: own
    base_path: ./own
    batching: { max_batch_size: 128, batch_timeout_micros: 7 }
`,
);
const batchingFile = file(
  'batching.txt',
  `max_batch_size { value: 128 } batch_timeout_micros { value: 0 } max_enqueued_batches { value: 100 }
num_batch_threads { value: 8 } allowed_batch_sizes: 32 allowed_batch_sizes: 128
pad_variable_length_inputs: true enable_large_batch_splitting { value: false }
thread_pool_name { value: "x" }`,
);
const partialBatching = file('partial.txt', 'max_batch_size { value: 64 }');
const badBatching = file('bad-batching.txt', 'max_batch_size: 64');
const sslFile = file(
  'ssl.txt',
  'server_key: "-----BEGIN KEY-----\\nk\\n" server_cert: "-----BEGIN CERT-----\\nc\\n" custom_ca: "ca" client_verify: true',
);
const monitoringFile = file(
  'monitoring.txt',
  'prometheus_config { enable: true, path: "/monitoring/prometheus/custom" }',
);
const modelConfig = file(
  'models.config',
  'model_config_list { config { name: "t" base_path: "/models/t" model_platform: "tensorflow" } }',
);

const GIB = 1024 ** 3;
function resolve(argv: readonly string[]): CommandLine {
  return resolveCommandLine(parseFlags(argv), { cwd: dir, gpuTotalMemory: (i) => (i + 1) * 10 * GIB });
}
const one = ['--model_base_path=/models/m'];
const withYaml = [`--config=${yaml}`];

interface Row {
  readonly flag: string;
  readonly argv: readonly string[];
  readonly expect: (c: CommandLine) => void;
}

const noEffect = (flag: string, argv: readonly string[]): Row => ({
  flag,
  argv,
  expect: (c) => {
    const lines = c.warnings.filter((w) => w.includes(`--${flag} `));
    assert.equal(lines.length, 1, c.warnings.join('\n'));
    assert.match(lines[0], /has no effect/);
  },
});

const ROWS: readonly Row[] = [
  { flag: 'port', argv: [...one, '--port=1234'], expect: (c) => assert.equal(c.config.grpcPort, 1234) },
  { flag: 'port', argv: [...one, '--port', '0'], expect: (c) => assert.equal(c.config.grpcPort, 0) },
  { flag: 'port', argv: one, expect: (c) => assert.equal(c.config.grpcPort, 8500) },
  { flag: 'port', argv: [...withYaml, '--port=1'], expect: (c) => assert.equal(c.config.grpcPort, 1) },
  {
    flag: 'grpc_port',
    argv: [...one, '--grpc_port=4321'],
    expect: (c) => assert.equal(c.config.grpcPort, 4321),
  },
  { flag: 'rest_api_port', argv: one, expect: (c) => assert.equal(c.config.restPort, -1) },
  {
    flag: 'rest_api_port',
    argv: [...one, '--rest_api_port=8501'],
    expect: (c) => assert.equal(c.config.restPort, 8501),
  },
  {
    flag: 'rest_api_port',
    argv: [...withYaml, '--rest_api_port=0'],
    expect: (c) => assert.equal(c.config.restPort, -1),
  },
  { flag: 'rest_api_port', argv: withYaml, expect: (c) => assert.equal(c.config.restPort, 9000) },
  {
    flag: 'rest_api_timeout_in_ms',
    argv: one,
    expect: (c) => assert.equal(c.config.defaultRequestTimeoutMs, 30000),
  },
  {
    flag: 'rest_api_timeout_in_ms',
    argv: [...withYaml, '--rest_api_timeout_in_ms=250'],
    expect: (c) => assert.equal(c.config.defaultRequestTimeoutMs, 250),
  },
  {
    flag: 'rest_api_timeout_in_ms',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.defaultRequestTimeoutMs, 5),
  },
  noEffect('rest_api_num_threads', [...one, '--rest_api_num_threads=4']),
  noEffect('rest_api_enable_cors_support', [...one, '--rest_api_enable_cors_support']),
  {
    flag: 'enable_batching',
    argv: one,
    expect: (c) => assert.equal(c.config.models[0].batching.maxBatchSize, UNBATCHED_MAX_BATCH_SIZE),
  },
  {
    flag: 'enable_batching',
    argv: [...one, '--enable_batching'],
    expect: (c) => {
      const b = c.config.models[0].batching;
      assert.deepEqual([b.maxBatchSize, b.batchTimeoutMicros, b.maxEnqueuedBatches], [1000, 0, 10]);
    },
  },
  {
    flag: 'enable_batching',
    argv: [...withYaml, '--enable_batching=false'],
    expect: (c) => {
      assert.equal(c.config.models[0].batching.maxBatchSize, UNBATCHED_MAX_BATCH_SIZE);
      assert.equal(c.config.models[1].batching.maxBatchSize, 128, 'a model with its own batching keeps it');
    },
  },
  {
    flag: 'enable_batching',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.models[0].batching.maxBatchSize, 8),
  },
  {
    flag: 'batching_parameters_file',
    argv: [...withYaml, '--enable_batching', `--batching_parameters_file=${batchingFile}`],
    expect: (c) => {
      const b = c.config.models[0].batching;
      assert.equal(b.maxBatchSize, 128);
      assert.equal(b.batchTimeoutMicros, 0);
      assert.equal(b.maxEnqueuedBatches, 100);
      assert.equal(b.numBatchThreads, 8);
      assert.deepEqual(b.allowedBatchSizes, [32, 128]);
      assert.equal(b.padVariableLengthInputs, true);
      assert.equal(b.enableLargeBatchSplitting, false);
      assert.deepEqual(
        [c.config.models[1].batching.maxBatchSize, c.config.models[1].batching.batchTimeoutMicros],
        [128, 7],
      );
      assert.equal(c.warnings.filter((w) => w.includes('thread_pool_name')).length, 1);
    },
  },
  {
    flag: 'batching_parameters_file',
    argv: [...one, '--enable_batching=true', `--batching_parameters_file`, partialBatching],
    expect: (c) => {
      const b = c.config.models[0].batching;
      assert.deepEqual([b.maxBatchSize, b.batchTimeoutMicros, b.maxEnqueuedBatches], [64, 0, 10]);
    },
  },
  {
    flag: 'batching_parameters_file',
    argv: [...one, `--batching_parameters_file=${partialBatching}`],
    expect: (c) => {
      assert.equal(c.config.models[0].batching.maxBatchSize, UNBATCHED_MAX_BATCH_SIZE);
      assert.ok(
        c.warnings.some((w) => /batching_parameters_file has no effect without --enable_batching/.test(w)),
      );
    },
  },
  {
    flag: 'model_config_file',
    argv: [`--model_config_file=${modelConfig}`],
    expect: (c) => {
      assert.deepEqual(
        c.config.models.map((m) => m.name),
        ['t'],
      );
      assert.equal(c.config.configFile, modelConfig);
    },
  },
  {
    flag: 'model_config_file',
    argv: [...withYaml, `--model_config_file=${modelConfig}`],
    expect: (c) => {
      assert.deepEqual(
        c.config.models.map((m) => m.name),
        ['t'],
      );
      assert.equal(
        c.config.models[0].batching.maxBatchSize,
        8,
        'text-file models take the YAML model_defaults',
      );
    },
  },
  {
    flag: 'model_config_file_poll_wait_seconds',
    argv: [`--model_config_file=${modelConfig}`, '--model_config_file_poll_wait_seconds=3'],
    expect: (c) => assert.equal(c.config.configPollIntervalMs, 3000),
  },
  {
    flag: 'model_config_file_poll_wait_seconds',
    argv: one,
    expect: (c) => assert.equal(c.config.configPollIntervalMs, 0),
  },
  {
    flag: 'model_config_file_poll_wait_seconds',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.configPollIntervalMs, 7000),
  },
  {
    flag: 'fs_model_config_poll_wait_seconds',
    argv: [...withYaml, '--fs_model_config_poll_wait_seconds=0.5'],
    expect: (c) => assert.equal(c.config.configPollIntervalMs, 500),
  },
  { flag: 'model_name', argv: one, expect: (c) => assert.equal(c.config.models[0].name, 'default') },
  {
    flag: 'model_name',
    argv: [...one, '--model_name', 'hp'],
    expect: (c) => assert.equal(c.config.models[0].name, 'hp'),
  },
  {
    flag: 'model_base_path',
    argv: ['--model_base_path=rel/m'],
    expect: (c) => assert.equal(c.config.models[0].basePath, path.join(dir, 'rel/m')),
  },
  {
    flag: 'model_base_path',
    argv: [...withYaml, '--model_name=extra', '--model_base_path=/e'],
    expect: (c) =>
      assert.deepEqual(
        c.config.models.map((m) => m.name),
        ['y', 'own', 'extra'],
      ),
  },
  noEffect('num_load_threads', [...one, '--num_load_threads=2']),
  noEffect('num_unload_threads', [...one, '--num_unload_threads=2']),
  { flag: 'max_num_load_retries', argv: one, expect: (c) => assert.equal(c.config.models[0].loadRetries, 5) },
  {
    flag: 'max_num_load_retries',
    argv: [...withYaml, '--max_num_load_retries=0'],
    expect: (c) => assert.equal(c.config.models[0].loadRetries, 0),
  },
  {
    flag: 'max_num_load_retries',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.models[0].loadRetries, 1),
  },
  {
    flag: 'load_retry_interval_micros',
    argv: one,
    expect: (c) => assert.equal(c.config.models[0].loadRetryIntervalMs, 60000),
  },
  {
    flag: 'load_retry_interval_micros',
    argv: [...one, '--load_retry_interval_micros=1500'],
    expect: (c) => assert.equal(c.config.models[0].loadRetryIntervalMs, 2),
  },
  {
    flag: 'file_system_poll_wait_seconds',
    argv: one,
    expect: (c) => assert.equal(c.config.pollIntervalMs, 1000),
  },
  {
    flag: 'file_system_poll_wait_seconds',
    argv: [...one, '--file_system_poll_wait_seconds=0.25'],
    expect: (c) => assert.equal(c.config.pollIntervalMs, 250),
  },
  {
    flag: 'tensorflow_session_parallelism',
    argv: [...withYaml, '--tensorflow_session_parallelism=3', '--tensorflow_intra_op_parallelism=5'],
    expect: (c) => {
      assert.deepEqual(
        c.config.devices.map((d) => [d.name, d.intraOpThreads, d.interOpThreads]),
        [
          ['cpu', 5, 3],
          ['cuda:0', 5, 3],
          ['cuda:1', 5, 3],
        ],
      );
      assert.deepEqual(c.env, { TF_NUM_INTRAOP_THREADS: '5', TF_NUM_INTEROP_THREADS: '3' });
    },
  },
  {
    flag: 'tensorflow_intra_op_parallelism',
    argv: [...one, '--tensorflow_intra_op_parallelism=4'],
    expect: (c) => {
      assert.deepEqual([c.config.devices[0].intraOpThreads, c.config.devices[0].interOpThreads], [4, 1]);
      assert.deepEqual(c.env, { TF_NUM_INTRAOP_THREADS: '4' });
    },
  },
  {
    flag: 'tensorflow_intra_op_parallelism',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.devices[0].intraOpThreads, 2),
  },
  {
    flag: 'tensorflow_inter_op_parallelism',
    argv: [...one, '--tensorflow_inter_op_parallelism=2'],
    expect: (c) =>
      assert.deepEqual([c.config.devices[0].intraOpThreads, c.config.devices[0].interOpThreads], [1, 2]),
  },
  {
    flag: 'per_process_gpu_memory_fraction',
    argv: [...withYaml, '--per_process_gpu_memory_fraction=0.5'],
    expect: (c) =>
      assert.deepEqual(
        c.config.devices.map((d) => [d.name, d.memoryBudgetBytes]),
        [
          ['cpu', 0],
          ['cuda:0', 5 * GIB],
          ['cuda:1', 10 * GIB],
        ],
      ),
  },
  {
    flag: 'per_process_gpu_memory_fraction',
    argv: withYaml,
    expect: (c) => assert.equal(c.config.devices[2].memoryBudgetBytes, 5),
  },
  {
    flag: 'per_process_gpu_memory_fraction',
    argv: [...one, '--per_process_gpu_memory_fraction=0.3'],
    expect: (c) => {
      assert.equal(c.config.devices[0].memoryBudgetBytes, 0);
      assert.ok(c.warnings.some((w) => /per_process_gpu_memory_fraction has no effect: no cuda/.test(w)));
    },
  },
  {
    flag: 'ssl_config_file',
    argv: [...one, `--ssl_config_file=${sslFile}`],
    expect: (c) => {
      const tls = c.config.tls;
      assert.ok(tls);
      assert.equal(tls.requireClientCert, true);
      assert.deepEqual(tls.pem, {
        key: '-----BEGIN KEY-----\nk\n',
        cert: '-----BEGIN CERT-----\nc\n',
        ca: 'ca',
      });
    },
  },
  { flag: 'ssl_config_file', argv: withYaml, expect: (c) => assert.equal(c.config.tls, undefined) },
  {
    flag: 'monitoring_config_file',
    argv: [...one, `--monitoring_config_file=${monitoringFile}`],
    expect: (c) =>
      assert.deepEqual(c.config.prometheus, { enable: true, path: '/monitoring/prometheus/custom' }),
  },
  {
    flag: 'monitoring_config_file',
    argv: one,
    expect: (c) => assert.equal(c.config.prometheus.enable, false),
  },
  {
    flag: 'monitoring_config_file',
    argv: withYaml,
    expect: (c) =>
      assert.deepEqual(c.config.prometheus, { enable: true, path: '/monitoring/prometheus/metrics' }),
  },
  noEffect('platform_config_file', [...one, '--platform_config_file=/p']),
  noEffect('saved_model_tags', [...one, '--saved_model_tags=serve,gpu']),
  noEffect('grpc_channel_arguments', [...one, '--grpc_channel_arguments=grpc.max_send_message_length=1']),
  noEffect('grpc_max_threads', [...one, '--grpc_max_threads=8']),
  {
    flag: 'enable_model_warmup',
    argv: [...withYaml, '--enable_model_warmup=false'],
    expect: (c) => {
      assert.equal(c.config.modelDefaults.enable_model_warmup, false);
      assert.equal(c.config.models[0].warmup?.enabled, false);
    },
  },
  {
    flag: 'enable_model_warmup',
    argv: [...one, '--enable_model_warmup', 'true'],
    expect: (c) => assert.equal(c.config.modelDefaults.enable_model_warmup, true),
  },
  {
    flag: 'num_request_iterations_for_warmup',
    argv: [...one, '--num_request_iterations_for_warmup=3'],
    expect: (c) => assert.equal(c.config.models[0].warmup?.iterations, 3),
  },
  noEffect('enable_grpc_healthcheck_service', [...one, '--enable_grpc_healthcheck_service=true']),
  { flag: 'version', argv: ['--version'], expect: () => {} },
];

describe('TF Serving command line: every §9 flag', () => {
  it('has a table entry and at least one test row for each flag', () => {
    for (const name of SECTION_9) {
      assert.ok(FLAGS_BY_NAME.has(name), `--${name} is not in FLAG_TABLE`);
      assert.ok(
        ROWS.some((r) => r.flag === name),
        `--${name} has no test row`,
      );
      assert.ok(USAGE.includes(`--${name}`), `--help does not list --${name}`);
    }
    for (const f of FLAG_TABLE) if (!f.own) assert.ok(SECTION_9.includes(f.name), `--${f.name} is not in §9`);
  });

  it('documents every flag in the README flag table', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const f of FLAG_TABLE)
      assert.ok(readme.includes(`| \`--${f.name}\``), `README has no row for --${f.name}`);
  });

  for (const row of ROWS) {
    it(`--${row.flag}: ${row.argv.map((a) => a.replace(dir, '<dir>')).join(' ')}`, () => {
      if (row.flag === 'version') {
        assert.equal(parseFlags(row.argv).version, true);
        return;
      }
      row.expect(resolve(row.argv));
    });
  }
});

describe('TF Serving command line: parsing', () => {
  it('accepts one or two dashes and booleans as --flag, --flag=false, --flag=0', () => {
    assert.equal(parseFlags(['-enable_batching']).values.get('enable_batching'), true);
    assert.equal(parseFlags(['--enable_batching=0']).values.get('enable_batching'), false);
    assert.equal(parseFlags(['--enable_batching=False']).values.get('enable_batching'), false);
    assert.equal(parseFlags(['-h']).help, true);
  });

  it('rejects unknown flags naming the closest known flag', () => {
    assert.throws(
      () => parseFlags(['--rest_port=1']),
      /unknown flag --rest_port; the closest known flag is --rest_api_port/,
    );
    assert.throws(() => parseFlags(['--enable_batchin']), /closest known flag is --enable_batching/);
    assert.equal(closestFlag('batching_file'), 'batching_parameters_file');
    assert.equal(closestFlag('grpc_max_thread'), 'grpc_max_threads');
  });

  it('rejects bad values naming the flag', () => {
    assert.throws(() => parseFlags(['--rest_api_port=abc']), /--rest_api_port must be an integer/);
    assert.throws(() => parseFlags(['--port=-2']), /--port must be an integer >= -1/);
    assert.throws(() => parseFlags(['--per_process_gpu_memory_fraction=x']), /must be a number/);
    assert.throws(() => parseFlags(['--enable_batching=maybe']), /--enable_batching must be true or false/);
    assert.throws(() => parseFlags(['--model_name']), /--model_name needs a value/);
    assert.throws(() => parseFlags(['stray']), /unexpected argument 'stray'/);
    assert.throws(() => parseFlags(['--log_level=loud']), /--log_level must be one of/);
  });

  it('rejects incomplete or contradictory command lines', () => {
    assert.throws(() => resolve(['--model_name=x']), /--model_name needs --model_base_path/);
    assert.throws(() => resolve([]), /give --config, --model_config_file, or --model_base_path/);
    assert.throws(
      () => resolve([`--model_config_file=${modelConfig}`, ...one]),
      /--model_config_file and --model_base_path cannot be combined/,
    );
  });

  it('names the file and the field of a bad flag file', () => {
    assert.throws(
      () => resolve([...one, '--enable_batching', `--batching_parameters_file=${badBatching}`]),
      (err: unknown) =>
        err instanceof ConfigError &&
        /bad-batching\.txt/.test(err.message) &&
        /max_batch_size must be a message/.test(err.message),
    );
    const unknownField = file('unknown.txt', 'max_batch_size { value: 1 } bogus { value: 1 }');
    assert.throws(
      () => resolve([...one, '--enable_batching', `--batching_parameters_file=${unknownField}`]),
      /BatchingParameters field 'bogus' is not supported/,
    );
    const noCert = file('nocert.txt', 'server_key: "k"');
    assert.throws(
      () => resolve([...one, `--ssl_config_file=${noCert}`]),
      /server_key and server_cert are required/,
    );
    assert.throws(() => resolve([...one, '--ssl_config_file=/nonexistent']), /cannot be read/);
    const badPath = file('badpath.txt', 'prometheus_config { enable: true path: "metrics" }');
    assert.throws(
      () => resolve([...one, `--monitoring_config_file=${badPath}`]),
      /path must be a string starting with \//,
    );
  });

  it('fails start-up when a GPU fraction is given and the total memory is unknown', () => {
    assert.throws(
      () =>
        resolveCommandLine(parseFlags([...withYaml, '--per_process_gpu_memory_fraction=0.5']), {
          cwd: dir,
          gpuTotalMemory: () => undefined,
        }),
      /the total memory of cuda:0 is unknown/,
    );
  });

  it('validates the YAML the flags are applied to, naming its paths', () => {
    const bad = file('bad.yaml', 'server:\n  grpc_port: x\n');
    assert.throws(() => resolve([`--config=${bad}`]), /server\.grpc_port must be integer/);
  });
});
