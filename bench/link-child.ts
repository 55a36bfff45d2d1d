// The link emulator (bench/link.ts) in a process of its own, so that its CPU does not land in the server's
// or the bench driver's figures (it is still counted as ours in the machine-load column).
// Usage (by bench/child.ts through fork, under tsx): link-child.ts <targetPort> <options JSON>
// Rates of `null` in the JSON mean unlimited (JSON has no Infinity). Reports {type: 'ready', port} over IPC;
// 'stop' closes and exits; exits when the bench goes away, and the link closes itself after its lifetime.
import { startLink, type LinkDirection, type LinkOptions } from './link.ts';

type WireDirection = { delayMs: number; bytesPerSecond: number | null };
const [portText, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as Omit<LinkOptions, 'targetPort' | 'up' | 'down'> & {
  up: WireDirection;
  down: WireDirection;
};
const direction = (wire: WireDirection): LinkDirection => ({
  delayMs: wire.delayMs,
  bytesPerSecond: wire.bytesPerSecond ?? Infinity,
});
const link = await startLink({
  ...options,
  targetPort: Number(portText),
  up: direction(options.up),
  down: direction(options.down),
});
process.on('message', (message: string) => {
  if (message === 'stats') process.send?.({ type: 'stats', ...link.stats() });
  if (message === 'stop') void link.close().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', port: link.port });
