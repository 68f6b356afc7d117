/**
 * In-process echo servers for integration tests. The implementation lives in `examples/backend` so the
 * child-process backend and the demo share it; this module is the tests' entry point.
 */
export { startEchoServer, type EchoServerHandle, type EchoServerOptions } from '../../examples/backend/echo-server';
export { ECHO_SERVICE_NAME, echoServiceDefinition, type EchoReply } from '../../examples/backend/echo-proto';
