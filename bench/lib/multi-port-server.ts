/**
 * A benchmark child serving the echo service on many loopback ports from one grpc-js server, so a
 * client can be connected to hundreds of endpoints without hundreds of processes. Started with
 * `startMultiPortServer`; exits when the parent disconnects.
 */
import * as grpc from '@grpc/grpc-js';
import { echoServiceDefinition } from '../../examples/backend/echo-proto';
import { createEchoService } from '../../examples/backend/echo-service';
import { serveRpc } from './rpc-server';

let server: grpc.Server | undefined;

serveRpc({
  async listen(params: { id: string; count: number }) {
    const service = createEchoService({ id: params.id });
    server = new grpc.Server();
    server.addService(echoServiceDefinition, service.implementation);
    const ports: number[] = [];
    for (let i = 0; i < params.count; i++) {
      ports.push(
        await new Promise<number>((resolve, reject) =>
          server!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
        ),
      );
    }
    return ports;
  },
});
