/**
 * Echo backends as child processes for integration tests (crash with SIGKILL, drain with SIGTERM, freeze
 * with SIGSTOP, restart on the same port). The implementation lives in `examples/backend` so the demo
 * shares it; every child is killed when the test process exits.
 */
export { startBackendProcess, type BackendProcess } from '../../examples/backend/backend-process';
