import { registerEtcdEndpoint, type EtcdRegistration } from 'switchyard';
import { ECHO_SERVICE_NAME } from '../backend/echo-proto';
import type { EtcdCluster } from '../etcd/etcd-server';
import type { DemoBackend } from './backends';
import type { Discovery } from './discovery';

/** Lease TTL of each registration in seconds: how long a record would outlive a backend nobody deregistered. */
const TTL_SECONDS = 10;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Registers every backend in `etcd` under `switchyard.demo.Echo` with `registerEtcdEndpoint()` (etcd's gRPC naming
 * layout) and returns the `etcd:///switchyard.demo.Echo` discovery. A crashed backend's registration is
 * closed (the lease revoked, so watching clients see it leave at once) and a restarted one registered
 * again. Here the demo deregisters on the backend's behalf, as a supervisor would; a real server calls
 * `registerEtcdEndpoint()` itself and its record expires `TTL_SECONDS` after it dies.
 *
 * @param etcd a running etcd; `close()` does not stop it.
 * @throws Error (rejects) when a first registration fails; the ones that succeeded are closed first.
 */
export async function etcdDiscovery(etcd: EtcdCluster, backends: readonly DemoBackend[]): Promise<Discovery> {
  const endpoints = [...etcd.endpoints];
  const registrations = new Map<string, EtcdRegistration>();
  const registerBackend = async (backend: DemoBackend): Promise<void> => {
    const registration = await registerEtcdEndpoint({
      endpoints,
      service: ECHO_SERVICE_NAME,
      addr: backend.process.address,
      metadata: { id: backend.process.id },
      ttlSeconds: TTL_SECONDS,
      requestTimeoutMs: 2_000,
    });
    registrations.set(backend.process.id, registration);
  };
  const closeAll = async (): Promise<void> => {
    const all = [...registrations.values()];
    registrations.clear();
    await Promise.all(all.map((r) => r.close()));
  };

  try {
    await Promise.all(backends.map(registerBackend));
  } catch (error) {
    await closeAll();
    throw error;
  }

  return {
    target: `etcd:///${ECHO_SERVICE_NAME}`,
    resolverOptions: { etcd: { endpoints } },
    async left(backend) {
      const registration = registrations.get(backend.process.id);
      registrations.delete(backend.process.id);
      await registration?.close();
      return registration && `etcd: deregistered ${backend.process.id} (${registration.key})`;
    },
    async joined(backend) {
      try {
        await registerBackend(backend);
        return `etcd: registered ${backend.process.id} again (${registrations.get(backend.process.id)?.key})`;
      } catch (error) {
        return `etcd: registering ${backend.process.id} failed: ${describe(error)}`;
      }
    },
    close: closeAll,
  };
}
