/**
 * Child process for the etcd registration tests: registers with the options given as JSON in argv[2],
 * prints "registered" and stays alive until killed, so the test can kill it without close() and watch
 * the lease expire.
 */
import { registerEtcdEndpoint, type EtcdRegistrationOptions } from '../../src/resolver/etcd-register';

const options = JSON.parse(process.argv[2] ?? '{}') as EtcdRegistrationOptions;
registerEtcdEndpoint(options).then(
  () => {
    process.stdout.write('registered\n');
    setInterval(() => undefined, 60_000);
  },
  (err: unknown) => {
    process.stderr.write(`register failed: ${String(err)}\n`);
    process.exit(1);
  },
);
