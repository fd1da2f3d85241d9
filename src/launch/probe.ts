// Bind-probe: a port that was free a moment ago, for engines that refuse
// port 0 (LAMMPS, NAMD) when no private network namespace is available.
// Another process can take it between our close and the engine's bind; the
// launcher detects the engine's bind failure and retries with a new port.
import net from 'node:net';

/** Binds port 0 on all interfaces (where the engine will bind), reads the number, closes. */
export function probeFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '0.0.0.0', exclusive: true }, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
