export * from './errors.ts';
export * from './messages.ts';
export * from './codec.ts';
export * from './terms.ts';
export * from './blocks.ts';
