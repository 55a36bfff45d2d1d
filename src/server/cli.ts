#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createUploadServer } from './upload-server.ts';

const USAGE = `Usage: ws-file-upload-server --dir ./uploads [--port 8080] [--host 127.0.0.1] [--path /upload]
                             [--static ./public] [--max-file-size BYTES] [--overwrite]

Stores files uploaded over WebSocket (WebSocketFileTransfer protocol) into --dir.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: './uploads' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string', default: '/upload' },
      static: { type: 'string' },
      'max-file-size': { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const server = await createUploadServer({
    dir: values.dir,
    port: Number(values.port),
    host: values.host,
    path: values.path,
    overwrite: values.overwrite,
    maxFileSize: values['max-file-size'] === undefined ? undefined : Number(values['max-file-size']),
    staticDir: values.static,
    // The demo page loads the built browser bundles from /dist.
    staticMounts: values.static ? { '/dist': new URL('..', import.meta.url).pathname } : undefined,
  });
  server.on('stored', (file) =>
    console.log(`stored ${file.filename} (${file.size} bytes, ${file.duration} ms)`),
  );
  server.on('failed', (info) => console.log(`failed ${info.code} ${info.message}`));
  const http = server.url.replace(/^ws/, 'http').replace(server.options.path, '/');
  console.log(`ws-file-upload server: uploads to ${server.url} are stored in ${values.dir}`);
  if (values.static) console.log(`Demo page: ${http}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exit(1);
});
