/**
 * Real etcd servers on loopback for integration tests (one member or a cluster; kill, freeze, restart).
 * The implementation lives in `examples/etcd` so the demo's `--discovery etcd` shares it; every etcd
 * process and data directory is removed by `close()` and when the test process exits.
 */
export {
  ETCD_SKIP_MESSAGE,
  etcdAvailable,
  freePorts,
  startEtcd,
  startEtcdCluster,
  type EtcdCluster,
} from '../../examples/etcd/etcd-server';
