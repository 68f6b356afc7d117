/**
 * In-process echo servers for integration tests. The implementation lives in `examples/backend` so the
 * child-process backend and the demo share it; this module is the tests' entry point.
 */
export { startEchoServer, hostPort, type EchoServerHandle, type EchoServerOptions } from '../../examples/backend/echo-server';
export type { EchoBehaviour, EchoStats, MethodStats } from '../../examples/backend/echo-service';
export {
  ECHO_METHODS,
  ECHO_PROTO_PATH,
  ECHO_SERVICE_NAME,
  EchoClient,
  echoServiceDefinition,
  type EchoClientConstructor,
  type EchoMethod,
  type EchoReply,
  type EchoRequest,
} from '../../examples/backend/echo-proto';
