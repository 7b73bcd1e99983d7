/**
 * Assembles a minimal OpenSearch distribution (server jars plus the modules PEBA needs) from
 * Maven Central artifacts, once, into a stable cache directory; later calls reuse it. The same
 * steps assemble Elasticsearch 7.17 for the compatibility check (`--engine elasticsearch`).
 *
 * Layout produced under `<cache>/<engine>-<version>/`:
 *   lib/                 the server and its dependencies
 *   modules/<name>/      each module's jar, the dependencies the server does not already have,
 *                        a generated plugin-descriptor.properties and plugin-security.policy
 *   bin/, plugins/       empty, but the server insists they exist
 *
 * The cache lives outside any home directory (default /var/tmp/peba-opensearch) because the
 * node runs as `nobody` when the caller is root, and root's home is not readable by nobody.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export const OPENSEARCH_VERSION = '2.19.6';
/**
 * The compatibility check's engine (README, "Elasticsearch 7.17"): assembled the same way, but
 * Maven Central holds only its server and transport module, no lang-painless or analysis-common.
 */
export const ELASTICSEARCH_VERSION = '7.17.29';

export const DEFAULT_CACHE_DIR = process.env['PEBA_OPENSEARCH_CACHE'] ?? '/var/tmp/peba-opensearch';

export type EngineName = 'opensearch' | 'elasticsearch';

interface ModuleSpec {
  /** Directory and plugin name in the distribution. */
  readonly name: string;
  /** Maven artifact id under the engine's plugin group. */
  readonly artifact: string;
  readonly classname: string;
  readonly extends?: string;
  /** Java permissions the module's code needs beyond the server's defaults. */
  readonly permissions: readonly string[];
}

/** What differs between the engines the launcher assembles; the layout and the steps are the same. */
export interface EngineSpec {
  readonly name: EngineName;
  readonly version: string;
  readonly groupId: string;
  /** Server artifacts beyond the main one; log4j-core is not pulled in transitively by OpenSearch. */
  readonly serverExtras: ReadonlyArray<readonly [string, string, string]>;
  readonly modules: readonly ModuleSpec[];
  /** System-property and descriptor prefix: `opensearch` or `es` / `elasticsearch`. */
  readonly propertyPrefix: string;
  readonly descriptorVersionKey: string;
  readonly mainClass: string;
}

/** Netty reads the kernel's accept backlog, opens and accepts sockets, and reads and sets its
 * threads' context loaders: without getClassLoader the event loops' shutdown promise is never
 * completed and every stop waits 30 s for the thread pool's timeout. */
const NETTY_PERMISSIONS = [
  'java.io.FilePermission "/proc/sys/net/core/somaxconn", "read"',
  'java.net.SocketPermission "*", "accept,connect"',
  'java.lang.RuntimePermission "getClassLoader"',
  'java.lang.RuntimePermission "setContextClassLoader"',
];

const OPENSEARCH_MODULES: readonly ModuleSpec[] = [
  { name: 'transport-netty4', artifact: 'transport-netty4-client', classname: 'org.opensearch.transport.Netty4Plugin', permissions: NETTY_PERMISSIONS },
  {
    name: 'lang-painless', artifact: 'lang-painless', classname: 'org.opensearch.painless.PainlessPlugin',
    // Painless compiles scripts into classes of its own loader.
    permissions: ['java.lang.RuntimePermission "createClassLoader"', 'java.lang.RuntimePermission "getClassLoader"'],
  },
  {
    name: 'analysis-common', artifact: 'analysis-common', classname: 'org.opensearch.analysis.common.CommonAnalysisPlugin',
    extends: 'lang-painless', permissions: [],
  },
  { name: 'mapper-extras', artifact: 'mapper-extras-client', classname: 'org.opensearch.index.mapper.MapperExtrasPlugin', permissions: [] },
  {
    name: 'aggs-matrix-stats', artifact: 'aggs-matrix-stats-client',
    classname: 'org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin', permissions: [],
  },
  { name: 'parent-join', artifact: 'parent-join-client', classname: 'org.opensearch.join.ParentJoinPlugin', permissions: [] },
  {
    name: 'reindex', artifact: 'reindex-client', classname: 'org.opensearch.index.reindex.ReindexPlugin',
    permissions: ['java.net.SocketPermission "*", "connect"'],
  },
];

export const ENGINES: Readonly<Record<EngineName, EngineSpec>> = {
  opensearch: {
    name: 'opensearch', version: OPENSEARCH_VERSION, groupId: 'org.opensearch',
    serverExtras: [
      ['org.opensearch', 'opensearch-plugin-classloader', OPENSEARCH_VERSION],
      // log4j-core's version follows the log4j-api the server depends on.
      ['org.apache.logging.log4j', 'log4j-core', '2.25.4'],
    ],
    modules: OPENSEARCH_MODULES, propertyPrefix: 'opensearch', descriptorVersionKey: 'opensearch.version',
    mainClass: 'org.opensearch.bootstrap.OpenSearch',
  },
  elasticsearch: {
    name: 'elasticsearch', version: ELASTICSEARCH_VERSION, groupId: 'org.elasticsearch',
    serverExtras: [
      ['org.elasticsearch', 'elasticsearch-plugin-classloader', ELASTICSEARCH_VERSION],
      ['org.apache.logging.log4j', 'log4j-core', '2.17.1'],
    ],
    modules: [
      { name: 'transport-netty4', artifact: 'transport-netty4-client', classname: 'org.elasticsearch.transport.Netty4Plugin', permissions: NETTY_PERMISSIONS },
    ],
    propertyPrefix: 'es', descriptorVersionKey: 'elasticsearch.version',
    mainClass: 'org.elasticsearch.bootstrap.Elasticsearch',
  },
};

function pom(artifactId: string, dependencies: ReadonlyArray<readonly [string, string, string]>, modules: readonly string[] = []): string {
  const deps = dependencies.map(([g, a, v]) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>peba.opensearch</groupId>
  <artifactId>${artifactId}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
${modules.length > 0 ? `  <modules>\n${modules.map((m) => `    <module>${m}</module>`).join('\n')}\n  </modules>\n` : ''}  <dependencies>
${deps}
  </dependencies>
</project>
`;
}

function jars(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.jar')).sort();
}

function descriptor(engine: EngineSpec, module: ModuleSpec): string {
  return [
    `description=${module.name} module (assembled by PEBA's test launcher)`,
    `version=${engine.version}`,
    `name=${module.name}`,
    `classname=${module.classname}`,
    'java.version=17',
    `${engine.descriptorVersionKey}=${engine.version}`,
    `extended.plugins=${module.extends ?? ''}`,
    'has.native.controller=false',
    '',
  ].join('\n');
}

function securityPolicy(module: ModuleSpec): string {
  if (module.permissions.length === 0) return 'grant {\n};\n';
  return `grant {\n${module.permissions.map((p) => `  permission ${p};`).join('\n')}\n};\n`;
}

/**
 * Returns the distribution's home directory, assembling it first if the cache does not hold it.
 * Maven's local repository is kept in the cache too, so a rebuild after deleting the assembled
 * tree needs no network. Concurrent callers each assemble into their own temporary directory and
 * the first rename wins.
 */
export function ensureDistribution(cacheDir = DEFAULT_CACHE_DIR, log: (line: string) => void = () => {}, engine: EngineSpec = ENGINES.opensearch): string {
  const home = join(cacheDir, `${engine.name}-${engine.version}`);
  if (existsSync(join(home, '.complete'))) return home;

  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  const build = join(cacheDir, `build-${process.pid}`);
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  const units: Array<[string, ReadonlyArray<readonly [string, string, string]>]> = [
    ['server', [[engine.groupId, engine.name, engine.version], ...engine.serverExtras]],
    ...engine.modules.map((m): [string, ReadonlyArray<readonly [string, string, string]>] => [m.name, [[`${engine.groupId}.plugin`, m.artifact, engine.version]]]),
  ];
  for (const [name, deps] of units) {
    mkdirSync(join(build, name));
    writeFileSync(join(build, name, 'pom.xml'), pom(name, deps));
  }
  writeFileSync(join(build, 'pom.xml'), pom('all', [], units.map(([name]) => name)));
  log(`assembling ${engine.name} ${engine.version} from Maven Central into ${home}`);
  execFileSync('mvn', [
    '-q', '-B', '-Dstyle.color=never', `-Dmaven.repo.local=${join(cacheDir, 'm2')}`,
    'dependency:copy-dependencies', '-DincludeScope=runtime',
  // Maven's output goes to stderr: stdout of `start` is meant for eval.
  ], { cwd: build, stdio: ['ignore', process.stderr, process.stderr] });

  const staged = join(build, 'home');
  const libDir = join(staged, 'lib');
  mkdirSync(libDir, { recursive: true });
  const serverJars = jars(join(build, 'server/target/dependency'));
  for (const jar of serverJars) copyFileSync(join(build, 'server/target/dependency', jar), join(libDir, jar));
  const provided = new Map<string, Set<string>>();
  for (const module of engine.modules) {
    const dir = join(staged, 'modules', module.name);
    mkdirSync(dir, { recursive: true });
    // A jar the server (or the extended module) already loads must not be loaded twice: jar hell.
    const parentJars = new Set([...serverJars, ...(module.extends !== undefined ? provided.get(module.extends) ?? [] : [])]);
    const own = jars(join(build, module.name, 'target/dependency')).filter((jar) => !parentJars.has(jar));
    for (const jar of own) copyFileSync(join(build, module.name, 'target/dependency', jar), join(dir, jar));
    provided.set(module.name, new Set(own));
    writeFileSync(join(dir, 'plugin-descriptor.properties'), descriptor(engine, module));
    writeFileSync(join(dir, 'plugin-security.policy'), securityPolicy(module));
  }
  mkdirSync(join(staged, 'bin'));
  mkdirSync(join(staged, 'plugins'));
  writeFileSync(join(staged, '.complete'), `${new Date().toISOString()}\n`);
  chmodSync(staged, 0o755);
  try {
    renameSync(staged, home);
  } catch (error) {
    // Another process finished first; its tree is as good as ours.
    if (!existsSync(join(home, '.complete'))) throw error;
  }
  rmSync(build, { recursive: true, force: true });
  return home;
}
