// Finds (and, as root with apt-get, installs) the real services the integration suites use.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Debian packages behind each service, and the binary that proves it is installed. */
export const SERVICES = [
  { name: 'dnsmasq', binary: 'dnsmasq', paths: ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'], packages: ['dnsmasq-base'] },
  { name: 'etcd', binary: 'etcd', paths: ['/usr/bin/etcd', '/usr/local/bin/etcd'], packages: ['etcd-server', 'etcd-client'] },
];

export function installCommand(missing) {
  return `sudo apt-get install -y ${missing.flatMap((s) => s.packages).join(' ')}`;
}

function found(service) {
  if (service.paths.some((p) => existsSync(p))) return true;
  return spawnSync('sh', ['-c', `command -v ${service.binary}`], { stdio: 'ignore' }).status === 0;
}

/** Returns the services still missing after trying to install them (root + apt-get only). */
export function ensureServices({ log = console.error } = {}) {
  let missing = SERVICES.filter((s) => !found(s));
  if (missing.length === 0) return [];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (root && apt) {
    const packages = missing.flatMap((s) => s.packages);
    log(`switchyard: installing test services: apt-get install -y ${packages.join(' ')}`);
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (error) {
      log(`switchyard: apt-get failed: ${error.message}`);
    }
    missing = SERVICES.filter((s) => !found(s));
  }
  return missing;
}
