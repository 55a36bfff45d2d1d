// The reference server as a child process, so that a test can kill it (SIGKILL) mid-upload and start it again.
// Usage: node --import tsx test/helpers/server-process.ts <dir> <port>; prints "listening <port>" when ready.
// WSFU_TEST_SERVER_OPTIONS may hold more options as JSON (e.g. {"naming":"sha256"}).
import { createUploadServer } from '../../src/server/index.ts';

const [dir, port] = process.argv.slice(2);
const extra = JSON.parse(process.env.WSFU_TEST_SERVER_OPTIONS ?? '{}') as Record<string, unknown>;
const server = await createUploadServer({ dir: dir!, port: Number(port ?? 0), host: '127.0.0.1', ...extra });
process.stdout.write(`listening ${server.port}\n`);
