#!/usr/bin/env node
// `npm run check:package` (after `npm run build`): the published package as a user meets it.
//  1. the exports map resolves for `require` and `import`, with the public entry points;
//  2. the public channel type shows no internal member;
//  3. publint and @arethetypeswrong/cli on the packed tarball;
//  4. first use: the tarball installed into a fresh app, whose client scripts (CommonJS and ESM), each
//     in its own process with nothing else holding the event loop, call a real grpc-js server on
//     loopback (another process) and must print the answer and exit by themselves;
//  5. the `switchyard` command line (package.json `bin`) runs in that app.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);
const fail = (message) => {
  console.error(`package check: ${message}`);
  process.exit(1);
};

// 1. exports map
const expected = ['createChannel', 'registerResolver', 'registerLoadBalancingPolicy', 'propagateDeadlines', 'ConfigError'];
const cjs = require('switchyard');
const esm = await import('switchyard');
for (const [kind, mod] of [['require', cjs], ['import', esm]]) {
  const absent = expected.filter((name) => typeof mod[name] !== 'function');
  if (absent.length > 0) fail(`${kind}('switchyard') lacks ${absent.join(', ')}`);
}
for (const types of ['dist/index.d.ts', 'dist/index.d.mts']) {
  if (!existsSync(path.join(root, types))) fail(`${types} is missing`);
}

// 2. the channel's declaration file: public members only
const PUBLIC_MEMBERS = [
  'constructor', 'events', 'close', 'getTarget', 'getConnectivityState', 'watchConnectivityState', 'getChannelzRef',
  'createCall', 'stats', 'snapshot',
];
const declaration = readFileSync(path.join(root, 'dist/channel/channel.d.ts'), 'utf8');
const classBody = /export declare class SwitchyardChannel[^{]*\{([\s\S]*?)\n\}/.exec(declaration)?.[1];
if (classBody === undefined) fail('dist/channel/channel.d.ts declares no SwitchyardChannel class');
const members = [...classBody.matchAll(/^ {4}(?:readonly |get |static )?(#?[A-Za-z_$][\w$]*)[?(:<]?/gm)].map((m) => m[1]);
const internal = members.filter((m) => m !== '#private' && !PUBLIC_MEMBERS.includes(m));
if (internal.length > 0) fail(`SwitchyardChannel's .d.ts shows internal members: ${internal.join(', ')}`);

// 3. publint and arethetypeswrong on the tarball
const work = path.join(root, '.tmp', 'package-check');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }));
const tarball = path.join(work, packed[0].filename);
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
execFileSync(bin('publint'), ['run', '--strict', root], { stdio: 'inherit' });
execFileSync(bin('attw'), [tarball, '--format', 'table-flipped'], { stdio: 'inherit' });

// 4. first use in a fresh app
const app = path.join(work, 'app');
mkdirSync(app);
const grpcVersion = require('@grpc/grpc-js/package.json').version;
writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }));
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `@grpc/grpc-js@${grpcVersion}`], {
  cwd: app,
  stdio: 'inherit',
});
const server = `
const grpc = require('@grpc/grpc-js');
const id = (b) => b;
const service = { Echo: { path: '/fresh.Echo/Echo', requestStream: false, responseStream: false,
  requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } };
const server = new grpc.Server();
server.addService(service, { Echo: (call, cb) => setTimeout(() => cb(null, Buffer.from('echo:' + call.request)), 200) });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => {
  if (e) throw e;
  process.stdout.write(JSON.stringify({ port }) + '\\n');
});
process.on('disconnect', () => process.exit(0));
`;
const client = (esmSyntax) => `
${esmSyntax ? "import grpc from '@grpc/grpc-js';\nimport { createChannel } from 'switchyard';" : "const grpc = require('@grpc/grpc-js');\nconst { createChannel } = require('switchyard');"}
const id = (b) => b;
const Client = grpc.makeGenericClientConstructor({ Echo: { path: '/fresh.Echo/Echo', requestStream: false, responseStream: false,
  requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, 'Echo');
const target = 'ipv4:127.0.0.1:' + process.argv[2];
const credentials = grpc.credentials.createInsecure();
const channel = createChannel(target, credentials);
const client = new Client(target, credentials, { channelOverride: channel });
// No close(), no timer of our own: the pending call alone must keep this process alive, and the
// idle channel afterwards must not.
client.Echo(Buffer.from('hi'), (error, reply) => {
  if (error) { console.error(error.message); process.exitCode = 1; return; }
  console.log(reply.toString());
});
`;
writeFileSync(path.join(app, 'server.cjs'), server);
writeFileSync(path.join(app, 'client.cjs'), client(false));
writeFileSync(path.join(app, 'client.mjs'), client(true));

const serverProcess = spawn(process.execPath, ['server.cjs'], { cwd: app, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((resolve, reject) => {
  serverProcess.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port));
  serverProcess.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});
try {
  for (const script of ['client.cjs', 'client.mjs']) {
    const started = Date.now();
    const output = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, String(port)], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} did not exit within 20 s (an idle channel keeps the process alive)`));
      }, 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0) reject(new Error(`${script} exited with ${code}`));
        else resolve(out.trim());
      });
    });
    if (output !== 'echo:hi') fail(`${script} printed ${JSON.stringify(output)} instead of "echo:hi" (the process exited before its call ended?)`);
    console.log(`package check: fresh app ${script}: one call, answer printed, exited by itself (${Date.now() - started} ms)`);
  }
} catch (error) {
  fail(error.message);
} finally {
  serverProcess.kill();
}
// 5. the `switchyard` command (package.json `bin`) in the fresh app
const check = spawnSync(path.join(app, 'node_modules', '.bin', 'switchyard'), ['check-config', '-'], {
  cwd: app, input: JSON.stringify({ methodConfig: [{ name: [{}], timeout: '1s' }] }), encoding: 'utf8',
});
if (check.status !== 0 || !check.stdout.includes('valid')) fail(`npx switchyard check-config failed (${check.status}): ${check.stdout}${check.stderr}`);
console.log('package check: require and import resolve, public types only, publint and attw clean, first use works, the switchyard command runs');
