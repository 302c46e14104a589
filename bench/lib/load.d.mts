// Types of bench/lib/load.mjs for the TypeScript benches.
export const LOAD_LIMIT: number;
export const ignoreLoad: boolean;
export function loadAtStart(): Promise<number[]>;
export function quiet(): boolean;
export function ratio(x: number, digits?: number): string;
export function loadAtEnd(): number[];
export function recordLoad(when: string): void;
