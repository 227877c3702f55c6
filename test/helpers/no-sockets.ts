import net from 'node:net';

/**
 * Set-up for the unit project: pure tests need no Redis, broker, S3 server or network, so any
 * attempt to open a socket fails the test that made it instead of quietly depending on a service.
 * Child processes (e.g. `docker-compose config`) are not affected.
 */
net.Socket.prototype.connect = function connect(): never {
  throw new Error('unit tests must not open sockets; move this test to test/integration');
};
