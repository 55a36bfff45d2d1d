// The reference server as a child process, so that a test can kill it (SIGKILL) mid-upload and start it again.
// Usage: node --import tsx test/helpers/server-process.ts <dir> <port>; prints "listening <port>" when ready.
import { createUploadServer } from '../../src/server/index.ts';

const [dir, port] = process.argv.slice(2);
const server = await createUploadServer({ dir: dir!, port: Number(port ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${server.port}\n`);
