export * from './errors.ts';
export * from './events.ts';
export * from './media.ts';
export * from './requests.ts';
export * from './token.ts';
export * from './ids.ts';
export * from './room-state.ts';
export * from './recordings.ts';
