// The policy and the decision in words, for the Schedule page and the Overview.
import { DAYS, type Action, type Condition, type Day, type Policy, type ResourceDecision, type ResourceState, type SignalName, type TimeWindow } from '../../protocol/index.js';

export const DAY_NAME: Record<Day, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

export const DAY_SHORT: Record<Day, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

export const RESOURCE_STATE_LABEL: Record<ResourceState, string> = {
  running: 'Running',
  limited: 'Limited',
  paused: 'Paused',
  released: 'Stopped',
};

export const SIGNAL_WORDS: Record<SignalName, string> = {
  idleSeconds: 'Idle time',
  screenLocked: 'Screen lock',
  onBattery: 'Battery state',
  batteryPercent: 'Battery charge',
  cpuTemperature: 'CPU temperature',
  gpuTemperature: 'GPU temperature',
  cpuForeignLoad: 'CPU load of other programs',
  gpuForeignLoad: 'GPU load of other programs',
  gamesRunning: 'Game detection',
  fullscreen: 'Full-screen detection',
  thermalState: 'Thermal state',
  speedLimit: 'CPU speed limit',
  suspended: 'Sleep state',
  price: 'Electricity price',
  hourlyNet: 'Earnings minus electricity per hour',
};

/** A condition kind in words, for lists that only know the kind. */
export const CONDITION_KIND_WORDS: Readonly<Record<string, string>> = {
  idle: 'idle time',
  notOnBattery: 'not on battery',
  batteryAtLeast: 'battery charge',
  temperatureBelow: 'temperature limit',
  noGame: 'no game running',
  timeWindows: 'weekly schedule',
  priceAtMost: 'price cap',
  netAtLeast: 'profit guard',
  foreignLoadBelow: 'load of other programs',
};

/** "gpuTemperature@gpu:0" -> "GPU temperature (GPU 0)". */
export function signalWords(signal: string): string {
  const [name, device] = signal.split('@');
  const words = SIGNAL_WORDS[name as SignalName] ?? name ?? signal;
  return device?.startsWith('gpu:') ? `${words} (GPU ${device.slice(4)})` : words;
}

/** "Mon–Fri", "Every day", "Weekends", "Mon, Wed–Fri". */
export function daysWords(days: readonly Day[]): string {
  const sorted = DAYS.filter((d) => days.includes(d));
  if (sorted.length === 7) return 'Every day';
  if (sorted.length === 2 && sorted[0] === 'sat' && sorted[1] === 'sun') return 'Weekends';
  const runs: Day[][] = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && DAYS.indexOf(d) === DAYS.indexOf(last.at(-1)!) + 1) last.push(d);
    else runs.push([d]);
  }
  return runs
    .map((run) => (run.length >= 3 ? `${DAY_SHORT[run[0]!]}–${DAY_SHORT[run.at(-1)!]}` : run.map((d) => DAY_SHORT[d]).join(', ')))
    .join(', ');
}

export function windowWords(w: TimeWindow): string {
  return `${daysWords(w.days)} ${w.start}–${w.end}`;
}

export function conditionWords(c: Condition, policy?: Policy): string {
  const currency = policy?.flatPrice?.currency;
  let text: string;
  switch (c.kind) {
    case 'idle':
      text = c.minMinutes === 0 ? 'the computer is idle' : `idle for at least ${c.minMinutes} min`;
      break;
    case 'notOnBattery':
      text = 'not on battery';
      break;
    case 'batteryAtLeast':
      text = `plugged in, or battery at ${c.percent} % or more`;
      break;
    case 'temperatureBelow':
      text = `${c.sensor === 'cpu' ? 'CPU' : 'GPU'} below ${c.celsius} °C`;
      break;
    case 'noGame':
      text = 'no game running';
      break;
    case 'timeWindows':
      text = `inside ${c.windows.map(windowWords).join('; ')}`;
      break;
    case 'priceAtMost':
      text = `electricity at most ${c.perKwh}${currency ? ` ${currency}` : ''} per kWh`;
      break;
    case 'netAtLeast':
      text = `work pays at least ${c.perHour}${currency ? ` ${currency}` : ''} per hour more than its electricity costs`;
      break;
    case 'foreignLoadBelow':
      text = `other programs use less than ${c.percent} %`;
      break;
  }
  if (c.ifUnavailable === 'ignore') text += ' (dropped where it can’t be checked)';
  if (c.ifUnavailable === 'block') text += ' (never runs where it can’t be checked)';
  return text;
}

export function limitsWords(limits: { cpuCores?: number | undefined; cpuPercent?: number | undefined; gpuDutyPercent?: number | undefined } | null): string {
  if (!limits) return '';
  const parts: string[] = [];
  if (limits.cpuCores !== undefined) parts.push(`${limits.cpuCores} ${limits.cpuCores === 1 ? 'core' : 'cores'}`);
  if (limits.cpuPercent !== undefined) parts.push(`${limits.cpuPercent} % of the CPU`);
  if (limits.gpuDutyPercent !== undefined) parts.push(`GPU busy ${limits.gpuDutyPercent} % of the time`);
  return parts.join(' · ');
}

export function actionWords(a: Action): string {
  switch (a.kind) {
    case 'run':
      return 'Share';
    case 'pause':
      return 'Pause';
    case 'limit':
      return `Share within limits: ${limitsWords(a)}`;
  }
}

/** "Paused: you are on battery" -> "you are on battery", for "No: …" sentences. */
export function withoutStatePrefix(text: string): string {
  const m = /^(Paused|Off): (.*)$/s.exec(text);
  return m ? m[2]! : text;
}

export function firstReason(r: ResourceDecision): string {
  return r.reasons[0]?.text ?? '';
}
