// Words, numbers and times for the Jobs page.
import type { JobState, JobSummary, RenderDeviceChoice, RenderProgress } from '../../protocol/index.js';

export const JOB_STATE_LABEL: Record<JobState, string> = {
  queued: 'Queued',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  succeeded: 'Finished',
  failed: 'Failed',
  canceled: 'Canceled',
};

/** The tone a state is drawn in (the same colours as the resources on the Overview). */
export const JOB_STATE_TONE: Record<JobState, 'running' | 'paused' | 'released' | 'limited' | 'failed'> = {
  queued: 'released',
  starting: 'limited',
  running: 'running',
  paused: 'paused',
  succeeded: 'running',
  failed: 'failed',
  canceled: 'released',
};

export const DEVICE_CHOICES: ReadonlyArray<{ value: RenderDeviceChoice; label: string }> = [
  { value: 'auto', label: 'Automatic (best this machine has)' },
  { value: 'CPU', label: 'CPU' },
  { value: 'OPTIX', label: 'NVIDIA GPU (OptiX)' },
  { value: 'CUDA', label: 'NVIDIA GPU (CUDA)' },
  { value: 'HIP', label: 'AMD GPU (HIP)' },
  { value: 'METAL', label: 'Apple GPU (Metal)' },
  { value: 'ONEAPI', label: 'Intel GPU (oneAPI)' },
];

export function isActive(job: JobSummary): boolean {
  return job.state === 'queued' || job.state === 'starting' || job.state === 'running' || job.state === 'paused';
}

/** "42 s", "3 min 05 s", "2 h 04 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "about 3 min 05 s left", or null while there is nothing to estimate from. */
export function formatEta(progress: RenderProgress | null): string | null {
  if (!progress || progress.remainingS === null) return null;
  return progress.remainingS < 1 ? 'almost done' : `about ${formatDuration(progress.remainingS)} left`;
}

/** How long a finished job ran: from start to finish, else the engine's own wall time. */
export function jobDuration(job: JobSummary): number | null {
  if (job.startedAt && job.finishedAt) {
    const ms = Date.parse(job.finishedAt) - Date.parse(job.startedAt);
    if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  }
  return job.result?.wallS ?? null;
}

export function framesLine(p: RenderProgress): string {
  return `${p.framesDone} of ${p.framesTotal} ${p.framesTotal === 1 ? 'frame' : 'frames'} done`;
}

/** What the frame being rendered has got to: "Frame 3: sample 12 of 64 · tile 2 of 4". */
export function currentFrameLine(p: RenderProgress): string | null {
  if (p.frame === null) return null;
  const parts: string[] = [];
  if (p.sample !== null && p.samples !== null) parts.push(`sample ${p.sample} of ${p.samples}`);
  if (p.tile !== null && p.tiles !== null) parts.push(`tile ${p.tile} of ${p.tiles}`);
  return parts.length > 0 ? `Frame ${p.frame}: ${parts.join(' · ')}` : `Frame ${p.frame}`;
}

/** "3f2a9c1e…b04d": enough to tell hashes apart at a glance; the full value goes in the title. */
export function shortHash(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}

/** Which form field a field error from the agent (or the local check) belongs to. */
export type QueueField = 'blendFile' | 'start' | 'end' | 'device' | 'general';

export function queueFieldOf(path: string): QueueField {
  if (path === 'blendFile') return 'blendFile';
  if (path === 'frames.start') return 'start';
  if (path === 'frames.end' || path === 'frames') return 'end';
  if (path === 'device') return 'device';
  return 'general';
}
