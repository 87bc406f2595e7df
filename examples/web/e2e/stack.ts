// The servers the end-to-end tests run against, started once for the whole run: both example
// API servers (axum and warp) in three configurations each, nginx serving the built client in
// both deployments, and, over HTTPS, the axum server terminating TLS itself.
//
// Every host is a name under `taskflow.test`, which Chromium maps to 127.0.0.1
// (`--host-resolver-rules`), so that the page and the API have the origins a real deployment
// would give them:
//   same origin   http://axum-main.same.taskflow.test:N       nginx: the client, and /api/ proxied
//   cross origin  http://axum-main.app.taskflow.test:N        nginx: the client only; its
//                 http://axum-main.api.taskflow.test:M        /config.js names the API, on M
// `app.` and `api.` share the site `taskflow.test`, so the API's cookies (SameSite Lax and
// Strict) go with the page's CORS requests; the API allows the app's origin with credentials.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const OUT = path.join(ROOT, 'target/e2e');
const DIST = path.resolve(ROOT, 'examples/web/dist');
const STACK_FILE = path.join(OUT, 'stack.json');

export type Adapter = 'axum' | 'warp';
export type Deployment = 'same-origin' | 'cross-origin';
export type Scheme = 'http' | 'https';
/** `main`: generous limits; `short`: 3 s access tokens; `limited`: 12 API requests a minute. */
export type Profile = 'main' | 'short' | 'limited';

export const ACCESS_TTL_SHORT_SECS = 3;
export const API_RATE_LIMITED_PER_MIN = 12;

interface Api {
  adapter: Adapter;
  profile: Profile;
  scheme: Scheme;
  port: number;
}

/** Where each (adapter, deployment, scheme, profile) lives, shared with the test workers. */
export interface Stack {
  /** The client's URL, by `key(...)`. */
  apps: Record<string, string>;
  /** The API's origin as the page calls it, by `key(...)`. */
  apis: Record<string, string>;
}

export function key(adapter: Adapter, deployment: Deployment, scheme: Scheme, profile: Profile): string {
  return [adapter, deployment, scheme, profile].join(' ');
}

export function readStack(): Stack {
  return JSON.parse(readFileSync(STACK_FILE, 'utf8')) as Stack;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The status of a GET, or `null` when nothing answers (certificates are not checked). */
function status(url: string): Promise<number | null> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve) => {
    const request = get(url, { rejectUnauthorized: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? null);
    });
    request.on('error', () => resolve(null));
    request.on('timeout', () => request.destroy());
  });
}

/** Polls `url` until it answers 200 (bounded), failing early if `child` exits. */
async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${OUT}/logs`);
    if ((await status(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready at ${url} after 30 s; see ${OUT}/logs`);
}

function host(api: Pick<Api, 'adapter' | 'profile' | 'scheme'>, role: 'same' | 'app' | 'api'): string {
  const name = api.scheme === 'https' ? `${api.adapter}-${api.profile}-tls` : `${api.adapter}-${api.profile}`;
  return `${name}.${role}.taskflow.test`;
}

function logFile(name: string): number {
  mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  return openSync(path.join(OUT, 'logs', `${name}.log`), 'w');
}

function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', cert, '-days', '2', '-subj', '/CN=taskflow.test',
    '-addext', 'subjectAltName=DNS:*.same.taskflow.test,DNS:*.app.taskflow.test,DNS:*.api.taskflow.test',
  ], { stdio: 'ignore' });
  return { cert, key: keyFile };
}

function nginxConfig(dir: string, ports: { http: number; https: number }, apis: Api[], tls: { cert: string; key: string }): string {
  const servers = apis.map((api) => {
    const listen = api.scheme === 'https'
      ? `listen 127.0.0.1:${ports.https} ssl;\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};`
      : `listen 127.0.0.1:${ports.http};`;
    const apiOrigin = `${api.scheme}://${host(api, 'api')}:${api.port}`;
    return `
  # ${api.adapter} ${api.profile} over ${api.scheme}, same origin: the client and the API behind one origin.
  server {
    ${listen}
    server_name ${host(api, 'same')};
    root ${DIST};
    location /api/ {
      proxy_pass ${api.scheme}://127.0.0.1:${api.port};
      proxy_ssl_verify off;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
    location = /config.js { add_header Cache-Control no-cache; }
    location / { try_files $uri /index.html; }
  }
  # ${api.adapter} ${api.profile} over ${api.scheme}, cross origin: the client only; /config.js names the API.
  server {
    ${listen}
    server_name ${host(api, 'app')};
    root ${DIST};
    location = /config.js {
      default_type application/javascript;
      add_header Cache-Control no-cache;
      return 200 'window.TASKFLOW_CONFIG = { apiBaseUrl: "${apiOrigin}" };';
    }
    location / { try_files $uri /index.html; }
  }`;
  });
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${OUT}/logs/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log ${OUT}/logs/nginx-access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types {
    text/html html;
    text/css css;
    application/javascript js;
    image/svg+xml svg;
  }
  default_type application/octet-stream;
${servers.join('\n')}
}
`;
}

/** Starts everything, writes the stack file, and returns the function that stops it all. */
export async function startStack(): Promise<() => Promise<void>> {
  const binaries = process.env.TASKFLOW_E2E_BIN_DIR ?? path.join(ROOT, 'target/debug/examples');
  for (const adapter of ['axum', 'warp']) {
    if (!existsSync(path.join(binaries, `${adapter}_server`))) {
      throw new Error(`no ${adapter}_server in ${binaries}: run \`cargo build --examples\` first`);
    }
  }
  if (!existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`no client build in ${DIST}: run \`npm run build\` first`);
  }
  const dir = path.join(OUT, 'stack');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tls = selfSignedCertificate(dir);
  const ports = { http: await freePort(), https: await freePort() };

  const apis: Api[] = [];
  for (const adapter of ['axum', 'warp'] as const) {
    for (const profile of ['main', 'short', 'limited'] as const) {
      apis.push({ adapter, profile, scheme: 'http', port: await freePort() });
    }
  }
  // Production's cookies (`__Host-`, `__Secure-`, `Secure`) need HTTPS: one server does that.
  for (const profile of ['main', 'short'] as const) {
    apis.push({ adapter: 'axum', profile, scheme: 'https', port: await freePort() });
  }

  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise((resolve) => child.once('exit', resolve)),
      ),
    );
  };

  try {
    const stack: Stack = { apps: {}, apis: {} };
    const ready: Promise<void>[] = [];
    for (const api of apis) {
      const appPort = api.scheme === 'https' ? ports.https : ports.http;
      const origins = (['same', 'app'] as const).map((role) => `${api.scheme}://${host(api, role)}:${appPort}`);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TASKFLOW_PROFILE: 'development',
        TASKFLOW_BIND: `127.0.0.1:${api.port}`,
        TASKFLOW_ALLOWED_ORIGINS: origins.join(','),
        // Every test registers its users from 127.0.0.1.
        TASKFLOW_AUTH_RATE_PER_MIN: '10000',
        TASKFLOW_API_RATE_PER_MIN: api.profile === 'limited' ? String(API_RATE_LIMITED_PER_MIN) : '100000',
        TASKFLOW_TRUSTED_PROXIES: '127.0.0.1/32',
        RUST_LOG: 'info',
      };
      delete env.TASKFLOW_MONGODB_URI;
      if (api.profile === 'short') env.TASKFLOW_ACCESS_TTL_SECS = String(ACCESS_TTL_SHORT_SECS);
      if (api.scheme === 'https') {
        env.TASKFLOW_TLS_CERT = tls.cert;
        env.TASKFLOW_TLS_KEY = tls.key;
      } else {
        env.TASKFLOW_COOKIE_SECURE = 'false';
      }
      const name = `${api.adapter}-${api.profile}-${api.scheme}`;
      const log = logFile(name);
      // The working directory holds no `.env` file that could change the configuration.
      const child = spawn(path.join(binaries, `${api.adapter}_server`), [], { env, cwd: dir, stdio: ['ignore', log, log] });
      children.push(child);
      ready.push(waitReady(`${api.scheme}://127.0.0.1:${api.port}/health/ready`, child, name));
      for (const deployment of ['same-origin', 'cross-origin'] as const) {
        const role = deployment === 'same-origin' ? 'same' : 'app';
        const k = key(api.adapter, deployment, api.scheme, api.profile);
        stack.apps[k] = `${api.scheme}://${host(api, role)}:${appPort}/`;
        stack.apis[k] = deployment === 'same-origin'
          ? `${api.scheme}://${host(api, 'same')}:${appPort}`
          : `${api.scheme}://${host(api, 'api')}:${api.port}`;
      }
    }
    const config = path.join(dir, 'nginx.conf');
    writeFileSync(config, nginxConfig(dir, ports, apis, tls));
    const nginxLog = logFile('nginx');
    const nginx = spawn(process.env.TASKFLOW_E2E_NGINX ?? 'nginx', ['-e', path.join(OUT, 'logs/nginx-error.log'), '-p', dir, '-c', config], {
      stdio: ['ignore', nginxLog, nginxLog],
    });
    children.push(nginx);
    ready.push(waitReady(`http://127.0.0.1:${ports.http}/config.js`, nginx, 'nginx'));
    await Promise.all(ready);
    writeFileSync(STACK_FILE, JSON.stringify(stack, null, 2));
    return stop;
  } catch (error) {
    await stop();
    throw error;
  }
}
