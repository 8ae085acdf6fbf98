// Power when no sensor can be read: the device's rated power (TDP / total board power) scaled by
// utilisation, above an idle floor. Coarse on purpose and always labelled 'estimated': a real
// card's draw depends on its clocks, its power limit and the work, so these figures only keep the
// cost side of "does sharing pay?" from being zero.
//
// Model: watts = idle + (tdp - idle) x utilisation. With no utilisation figure the device is taken
// as fully loaded while our work runs on it and idle otherwise, so an unknown load is never billed
// as free.
import type { PowerBasis } from '../../protocol/index.js';

/** Board power by model, from the vendors' specifications (reference cards; factory-overclocked
 * cards draw more). Most specific patterns first: "4070 Ti" before "4070". */
const GPU_TDP: ReadonlyArray<[RegExp, number]> = [
  [/RTX\s*5090/i, 575],
  [/RTX\s*5080/i, 360],
  [/RTX\s*5070\s*Ti/i, 300],
  [/RTX\s*5070/i, 250],
  [/RTX\s*5060\s*Ti/i, 180],
  [/RTX\s*5060/i, 145],
  [/RTX\s*4090/i, 450],
  [/RTX\s*4080/i, 320],
  [/RTX\s*4070\s*Ti/i, 285],
  [/RTX\s*4070/i, 200],
  [/RTX\s*4060\s*Ti/i, 160],
  [/RTX\s*4060/i, 115],
  [/RTX\s*3090\s*Ti/i, 450],
  [/RTX\s*3090/i, 350],
  [/RTX\s*3080\s*Ti/i, 350],
  [/RTX\s*3080/i, 320],
  [/RTX\s*3070\s*Ti/i, 290],
  [/RTX\s*3070/i, 220],
  [/RTX\s*3060\s*Ti/i, 200],
  [/RTX\s*3060/i, 170],
  [/RTX\s*3050/i, 130],
  [/RTX\s*2080\s*Ti/i, 250],
  [/RTX\s*2080/i, 215],
  [/RTX\s*2070/i, 175],
  [/RTX\s*2060/i, 160],
  [/GTX\s*1080\s*Ti/i, 250],
  [/GTX\s*1080/i, 180],
  [/GTX\s*1070/i, 150],
  [/GTX\s*1660/i, 120],
  [/GTX\s*1060/i, 120],
  [/GTX\s*1650/i, 75],
  [/RX\s*9070\s*XT/i, 304],
  [/RX\s*9070/i, 220],
  [/RX\s*7900\s*XTX/i, 355],
  [/RX\s*7900\s*XT/i, 315],
  [/RX\s*7900\s*GRE/i, 260],
  [/RX\s*7800\s*XT/i, 263],
  [/RX\s*7700\s*XT/i, 245],
  [/RX\s*7600/i, 165],
  [/RX\s*6950\s*XT/i, 335],
  [/RX\s*69\d0\s*XT/i, 300],
  [/RX\s*6800\s*XT/i, 300],
  [/RX\s*6800/i, 250],
  [/RX\s*6750\s*XT/i, 250],
  [/RX\s*6700\s*XT/i, 230],
  [/RX\s*6650\s*XT/i, 180],
  [/RX\s*6600\s*XT/i, 160],
  [/RX\s*6600/i, 132],
];

/** A discrete GPU we know nothing about: a middle-of-the-range card. */
export const GENERIC_GPU_TDP = 200;
/** Laptop GPUs run at a fraction of the desktop part's power, set by the laptop maker. */
const LAPTOP_GPU = /Laptop|Max-Q|Mobile/i;
const GENERIC_LAPTOP_GPU_TDP = 80;

export interface Estimate {
  watts: number;
  idleWatts: number;
  tdpWatts: number;
  basis: Extract<PowerBasis, 'estimated'>;
  source: 'estimate';
  /** How the figure was made, for the user. */
  note: string;
}

export function gpuTdpWatts(name: string | null, capWatts: number | null = null): { watts: number; how: string } {
  // The driver's own board power limit beats any table.
  if (capWatts !== null && capWatts > 0) return { watts: capWatts, how: `its board power limit of ${Math.round(capWatts)} W` };
  if (name && LAPTOP_GPU.test(name)) return { watts: GENERIC_LAPTOP_GPU_TDP, how: `a typical laptop GPU's ${GENERIC_LAPTOP_GPU_TDP} W` };
  for (const [pattern, watts] of GPU_TDP) if (name && pattern.test(name)) return { watts, how: `the ${watts} W rated board power of this model` };
  return { watts: GENERIC_GPU_TDP, how: `a generic ${GENERIC_GPU_TDP} W GPU (model not in the table)` };
}

/** Desktop CPUs by logical core count (8 threads ~ a 65 W part, 16 ~ 105 W, more ~ HEDT/high end);
 * laptops by a typical sustained package power. */
export function cpuTdpWatts(logicalCores: number | null, mobile = false): number {
  if (mobile) return logicalCores !== null && logicalCores > 12 ? 45 : 28;
  if (logicalCores === null) return 65;
  if (logicalCores <= 4) return 45;
  if (logicalCores <= 12) return 65;
  if (logicalCores <= 24) return 125;
  return 170;
}

/** Idle draw as a share of rated power: a modern GPU idles at ~5-10 % of its board power with a
 * desktop on screen, a desktop CPU package at ~10-15 %. */
const IDLE_SHARE = { gpu: 0.07, cpu: 0.12 } as const;
const MIN_IDLE = { gpu: 8, cpu: 5 } as const;

export interface EstimateInput {
  kind: 'gpu' | 'cpu';
  tdpWatts: number;
  /** 0-100, or null when unknown. */
  utilizationPercent: number | null;
  /** Our work runs on the device (decides an unknown utilisation). */
  busy: boolean;
  how: string;
}

const tenths = (w: number) => Math.round(w * 10) / 10;

export function estimatePower(input: EstimateInput): Estimate {
  const tdp = Math.max(1, input.tdpWatts);
  // Tenths of a watt: the figure is coarse, and float noise (22.400000000000002) is not precision.
  const idleWatts = tenths(Math.min(tdp, Math.max(MIN_IDLE[input.kind], tdp * IDLE_SHARE[input.kind])));
  const util = input.utilizationPercent === null ? (input.busy ? 100 : 0) : Math.min(100, Math.max(0, input.utilizationPercent));
  const load = input.utilizationPercent === null ? `${util} % load assumed (no utilisation figure)` : `${Math.round(util)} % utilisation`;
  return {
    watts: tenths(idleWatts + ((tdp - idleWatts) * util) / 100),
    idleWatts,
    tdpWatts: tdp,
    basis: 'estimated',
    source: 'estimate',
    note: `estimated from ${input.how} at ${load}`,
  };
}

export function estimateGpu(name: string | null, utilizationPercent: number | null, busy: boolean, capWatts: number | null = null): Estimate {
  const tdp = gpuTdpWatts(name, capWatts);
  return estimatePower({ kind: 'gpu', tdpWatts: tdp.watts, utilizationPercent, busy, how: tdp.how });
}

export function estimateCpu(logicalCores: number | null, utilizationPercent: number | null, busy: boolean, mobile = false): Estimate {
  const tdp = cpuTdpWatts(logicalCores, mobile);
  const how = `a typical ${tdp} W ${mobile ? 'laptop' : 'desktop'} CPU${logicalCores !== null ? ` with ${logicalCores} threads` : ''}`;
  return estimatePower({ kind: 'cpu', tdpWatts: tdp, utilizationPercent, busy, how });
}
