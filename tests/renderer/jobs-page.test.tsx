import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../renderer/app.js';
import { TerminalContext } from '../../renderer/jobs/console-view.js';
import { createXtermTerminal, type ConsoleTerminal, type CreateTerminal } from '../../renderer/jobs/terminal.js';
import { createHarness, FakeAgent, makeJob, makeProgress, type Harness } from './fake-agent.js';
import { freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/jobs');
});

/** A terminal that records what the console view asks of it. */
class RecordingTerminal implements ConsoleTerminal {
  static all: RecordingTerminal[] = [];
  written: string[] = [];
  resets = 0;
  disposed = false;
  constructor(readonly container: HTMLElement) {
    RecordingTerminal.all.push(this);
  }
  write(data: string) {
    this.written.push(data);
  }
  reset() {
    this.resets++;
    this.written = [];
  }
  fit() {}
  dispose() {
    this.disposed = true;
  }
  get text() {
    return this.written.join('');
  }
}

const recording: CreateTerminal = (container) => new RecordingTerminal(container);

async function openJobs(agent = new FakeAgent(), terminal: CreateTerminal = recording): Promise<Harness> {
  RecordingTerminal.all = [];
  const h = createHarness({ agent });
  h.connection.start();
  render(
    <TerminalContext.Provider value={terminal}>
      <App connection={h.connection} />
    </TerminalContext.Provider>,
  );
  await screen.findByRole('heading', { name: 'Jobs', level: 1 });
  await waitFor(() => expect(h.sockets.length).toBe(1));
  act(() => h.socket().accept(h.agent.status));
  return h;
}

const rows = () => screen.queryAllByTestId('job-row');
const row = (id: string) => screen.getAllByTestId('job-row').find((r) => r.dataset.jobId === id)!;
const push = (h: Harness, job: ReturnType<typeof makeJob>) => act(() => h.socket().receive({ type: 'job', job }));

describe('jobs page', () => {
  it('says honestly that nothing has run, and still offers the form', async () => {
    await openJobs();
    const empty = await screen.findByTestId('empty-state');
    expect(empty.textContent).toContain('No jobs yet. Offhours has not run any work on this machine.');
    expect(rows()).toHaveLength(0);
    expect(screen.getByTestId('queue-form')).toBeTruthy();
    expect(screen.queryByTestId('job-console')).toBeNull();
  });

  it('queues a render with the right body and lists the new job with why it waits', async () => {
    const h = await openJobs();
    await screen.findByTestId('empty-state');
    fireEvent.change(screen.getByLabelText('Blender file (.blend)'), { target: { value: ' /home/ada/scenes/shot.blend ' } });
    fireEvent.change(screen.getByLabelText('First frame'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Last frame'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Device'), { target: { value: 'CPU' } });
    fireEvent.click(screen.getByRole('button', { name: 'Queue render' }));

    await waitFor(() => expect(h.agent.mutations()).toHaveLength(1));
    expect(h.agent.mutations()[0]).toEqual({
      method: 'POST',
      path: '/api/v1/jobs',
      body: { kind: 'render', blendFile: '/home/ada/scenes/shot.blend', frames: { start: 2, end: 5 }, device: 'CPU' },
    });
    await waitFor(() => expect(rows()).toHaveLength(1));
    const r = row('local-1');
    expect(r.dataset.state).toBe('queued');
    expect(within(r).getByTestId('job-reason').textContent).toBe('Waiting: your rules do not allow work right now.');
    expect(screen.getByTestId('queued').textContent).toBe('Queued “shot.blend”.');
    expect(screen.queryByTestId('empty-state')).toBeNull();
    // The new job's console is the one shown.
    expect(screen.getByTestId('job-console').dataset.jobId).toBe('local-1');
  });

  it('shows the agent’s field errors next to the fields, and checks the frames itself first', async () => {
    const h = await openJobs();
    await screen.findByTestId('empty-state');
    const file = screen.getByLabelText('Blender file (.blend)');
    fireEvent.change(file, { target: { value: '/nowhere/missing.blend' } });
    fireEvent.click(screen.getByRole('button', { name: 'Queue render' }));
    const error = await screen.findByTestId('error-blendFile');
    expect(error.textContent).toBe('There is no such file on this machine.');
    expect(file.getAttribute('aria-invalid')).toBe('true');
    expect(file.getAttribute('aria-describedby')).toContain(error.id);
    // A rejected form is not the global alert: the errors are where the user looks.
    expect(screen.queryByTestId('action-error')).toBeNull();
    expect(rows()).toHaveLength(0);

    // Last before first, and not a .blend: caught before anything is sent.
    const sent = h.agent.mutations().length;
    fireEvent.change(file, { target: { value: '/home/ada/scenes/shot.png' } });
    fireEvent.change(screen.getByLabelText('First frame'), { target: { value: '10' } });
    fireEvent.change(screen.getByLabelText('Last frame'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Queue render' }));
    expect((await screen.findByTestId('error-end')).textContent).toMatch(/before/);
    expect(screen.getByTestId('error-blendFile').textContent).toMatch(/\.blend/);
    expect(screen.getByLabelText('Last frame').getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(screen.getByLabelText('First frame'), { target: { value: 'one' } });
    fireEvent.click(screen.getByRole('button', { name: 'Queue render' }));
    expect((await screen.findByTestId('error-start')).textContent).toMatch(/whole frame number/);
    expect(h.agent.mutations()).toHaveLength(sent);
  });

  it('follows pushes: progress, ETA, samples and tiles, a pause with its reason, then the finished job with its hashes', async () => {
    const agent = new FakeAgent();
    agent.jobs = [makeJob({ id: 'job-1', title: 'shot.blend', device: 'CPU' })];
    const h = await openJobs(agent);
    await waitFor(() => expect(rows()).toHaveLength(1));
    const progress = () => within(row('job-1')).getByTestId('job-progress');
    expect(progress().textContent).toContain('0 of 4 frames done');
    expect(row('job-1').textContent).toContain('on CPU');

    push(h, makeJob({ progress: makeProgress({ frame: 3, framesDone: 2, sample: 30, samples: 64, tile: 2, tiles: 4, elapsedS: 40, remainingS: 65, fraction: 0.55 }) }));
    expect(progress().textContent).toContain('2 of 4 frames done');
    expect(within(progress()).getByTestId('job-eta').textContent).toBe('about 1 min 05 s left');
    expect(within(progress()).getByTestId('job-frame').textContent).toBe('Frame 3: sample 30 of 64 · tile 2 of 4');
    expect(within(progress()).getByLabelText('shot.blend: whole job').getAttribute('value')).toBe('0.55');

    // A push that crossed with a newer one on the wire does not take progress back.
    push(h, makeJob({ progress: makeProgress({ framesDone: 1, fraction: 0.3, elapsedS: 20 }) }));
    expect(progress().textContent).toContain('2 of 4 frames done');

    push(h, makeJob({ state: 'paused', reason: { code: 'user_active', text: 'Paused: you are using the computer' }, progress: makeProgress({ framesDone: 2, fraction: 0.55, elapsedS: 40 }) }));
    expect(row('job-1').dataset.state).toBe('paused');
    expect(within(row('job-1')).getByTestId('job-reason').textContent).toBe('Paused: you are using the computer');

    const sha = 'ab'.repeat(32);
    push(
      h,
      makeJob({
        state: 'succeeded',
        progress: makeProgress({ framesDone: 4, fraction: 1, remainingS: 0, elapsedS: 90 }),
        startedAt: '2025-01-06T09:00:01.000Z',
        finishedAt: '2025-01-06T09:01:36.000Z',
        result: {
          jobId: 'job-1',
          outcome: 'succeeded',
          failure: null,
          device: 'CPU',
          sandbox: 'bubblewrap',
          exit: { code: 0, signal: null },
          frames: [{ frame: 1, file: 'frame_0001.png', sha256: sha, width: 64, height: 64, bytes: 1234 }],
          extraFiles: [],
          wallS: 95,
        },
      }),
    );
    const done = row('job-1');
    expect(done.dataset.state).toBe('succeeded');
    expect(within(done).queryByRole('button', { name: 'Cancel job' })).toBeNull();
    expect(done.textContent).toContain('ran 1 min 35 s');
    const hash = within(done).getByTestId('output-hash');
    expect(hash.textContent).toBe('sha256 abababab…abab');
    expect(hash.getAttribute('title')).toBe(`SHA-256 ${sha}`);
    expect(screen.getByRole('heading', { name: 'History' })).toBeTruthy();
  });

  it('shows why a job failed', async () => {
    const agent = new FakeAgent();
    agent.jobs = [
      makeJob({
        id: 'job-9',
        state: 'failed',
        progress: null,
        finishedAt: '2025-01-06T09:00:05.000Z',
        failure: { code: 'external_reference', text: 'The scene uses a file outside its job folder.', line: 'texture: /etc/passwd' },
      }),
    ];
    await openJobs(agent);
    const failure = await screen.findByTestId('job-failure');
    expect(failure.textContent).toContain('The scene uses a file outside its job folder.');
    expect(failure.textContent).toContain('external_reference');
    expect(failure.textContent).toContain('texture: /etc/passwd');
  });

  it('cancels a job', async () => {
    const agent = new FakeAgent();
    agent.jobs = [makeJob({ id: 'job-1' })];
    const h = await openJobs(agent);
    await waitFor(() => expect(rows()).toHaveLength(1));
    fireEvent.click(within(row('job-1')).getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(row('job-1').dataset.state).toBe('canceled'));
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/jobs/job-1/cancel', body: undefined }]);
  });

  it('streams the console into the terminal: replay then live, again after a reconnect, and lets go on leaving', async () => {
    const agent = new FakeAgent();
    agent.jobs = [makeJob({ id: 'job-1' })];
    const h = await openJobs(agent);
    await waitFor(() => expect(screen.getByTestId('job-console').dataset.jobId).toBe('job-1'));
    await waitFor(() => expect(h.socket().sent).toContainEqual({ type: 'console-subscribe', jobId: 'job-1' }));
    const terminal = RecordingTerminal.all.at(-1)!;
    expect(terminal.container).toBe(screen.getByTestId('job-console'));

    act(() => {
      h.socket().receive({ type: 'console', jobId: 'job-1', data: 'Blender 3.4.1\r\nRead blend: scene.blend\r\n', replay: true });
      h.socket().receive({ type: 'console', jobId: 'job-1', data: 'Fra:1 Mem:12M | Time:00:01.02 | Sample 8/64\r\n' });
      h.socket().receive({ type: 'console', jobId: 'other', data: 'not for this job' });
    });
    expect(terminal.text).toBe('Blender 3.4.1\r\nRead blend: scene.blend\r\nFra:1 Mem:12M | Time:00:01.02 | Sample 8/64\r\n');

    // The socket drops; the new one subscribes again, and the replay starts a clean screen.
    const resets = terminal.resets;
    act(() => h.socket().drop());
    act(() => h.timers.runAll());
    await waitFor(() => expect(h.sockets).toHaveLength(2));
    act(() => h.socket().accept(h.agent.status));
    expect(h.socket().sent).toContainEqual({ type: 'console-subscribe', jobId: 'job-1' });
    // What was shown stays until the new replay arrives, which replaces it.
    expect(terminal.resets).toBe(resets);
    expect(terminal.text).toContain('Sample 8/64');
    act(() => h.socket().receive({ type: 'console', jobId: 'job-1', data: 'Blender 3.4.1\r\n', replay: true }));
    expect(terminal.resets).toBe(resets + 1);
    expect(terminal.text).toBe('Blender 3.4.1\r\n');

    // Leaving the page unsubscribes and disposes the terminal.
    act(() => {
      window.location.hash = '#/overview';
    });
    await screen.findByRole('heading', { name: 'Overview', level: 1 });
    expect(h.socket().sent).toContainEqual({ type: 'console-unsubscribe', jobId: 'job-1' });
    expect(terminal.disposed).toBe(true);
  });

  it('switches the console to another job with a fresh terminal', async () => {
    const agent = new FakeAgent();
    agent.jobs = [makeJob({ id: 'job-2', createdAt: '2025-01-06T10:00:00.000Z' }), makeJob({ id: 'job-1', state: 'succeeded', progress: null })];
    const h = await openJobs(agent);
    await waitFor(() => expect(screen.getByTestId('job-console').dataset.jobId).toBe('job-2'));
    const first = RecordingTerminal.all.at(-1)!;
    fireEvent.click(within(row('job-1')).getByRole('button', { name: 'Show the console of shot.blend' }));
    await waitFor(() => expect(screen.getByTestId('job-console').dataset.jobId).toBe('job-1'));
    expect(first.disposed).toBe(true);
    expect(h.socket().sent).toEqual(expect.arrayContaining([{ type: 'console-unsubscribe', jobId: 'job-2' }, { type: 'console-subscribe', jobId: 'job-1' }]));
  });

  it('writes console data into a real xterm.js terminal', async () => {
    const agent = new FakeAgent();
    agent.jobs = [makeJob({ id: 'job-1' })];
    let terminal: ConsoleTerminal | undefined;
    const h = await openJobs(agent, (container) => (terminal = createXtermTerminal(container)));
    await waitFor(() => expect(h.socket().sent).toContainEqual({ type: 'console-subscribe', jobId: 'job-1' }));
    act(() => h.socket().receive({ type: 'console', jobId: 'job-1', data: 'Fra:1 Mem:12M | Sample 8/64\r\n', replay: true }));
    const console = screen.getByTestId('job-console');
    expect(console.querySelector('.xterm')).not.toBeNull();
    // xterm parses asynchronously; its DOM renderer draws the rows.
    await waitFor(() => expect(console.querySelector('.xterm-rows')?.textContent).toContain('Fra:1 Mem:12M | Sample 8/64'));
    expect(terminal).toBeDefined();
  });

describe('render engine card', () => {
  it('shows the Blender, the sandbox and each device’s benchmark, and queues a benchmark for the chosen device', async () => {
    const agent = new FakeAgent();
    agent.renderInfo = {
      blenderSetting: null,
      environment: {
        blender: { path: '/usr/bin/blender', version: 'Blender 3.4.1', source: 'PATH', fingerprint: { realPath: '/usr/bin/blender', size: 1, mtimeMs: 1 } },
        sandbox: { bwrap: null, kind: 'none', note: 'bubblewrap is not installed' },
      },
      benchmarks: [{ device: 'CPU', samplesPerSecond: 2_605_158, renderS: 0.4, width: 128, height: 128, samples: 64, blender: 'Blender 3.4.1', jobId: 'j_1', at: '2026-11-25T10:00:00.000Z' }],
    };
    const h = await openJobs(agent);
    const card = await screen.findByTestId('engine-card');
    await waitFor(() => expect(within(card).getByTestId('engine-blender').textContent).toContain('Blender 3.4.1'));
    expect(within(card).getByTestId('engine-sandbox').textContent).toContain('bubblewrap is not installed');
    expect(within(card).getByTestId('benchmark-speed').textContent).toBe('2.6 M samples/s');

    fireEvent.change(within(card).getByLabelText('Device to benchmark'), { target: { value: 'CUDA' } });
    fireEvent.click(within(card).getByRole('button', { name: 'Run benchmark' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/render/benchmark', body: { device: 'CUDA' } }]));
    await waitFor(() => expect(rows().some((r) => r.textContent?.includes('Benchmark (CUDA)'))).toBe(true));
  });

  it('before any job, says the Blender is looked for when the next job starts', async () => {
    await openJobs();
    const card = await screen.findByTestId('engine-card');
    await waitFor(() => expect(within(card).getByTestId('engine-blender').textContent).toMatch(/Looked for when the next job starts/));
    expect(within(card).queryByTestId('benchmarks')).toBeNull();
  });
});

describe('deleting a finished job', () => {
  it('asks once more, sends DELETE, and the row goes; a removal pushed by another window drops its row too', async () => {
    const agent = new FakeAgent();
    agent.jobs = [
      makeJob({ id: 'done-1', title: 'old.blend', state: 'succeeded', finishedAt: '2026-11-25T10:00:00.000Z' }),
      makeJob({ id: 'done-2', title: 'older.blend', state: 'failed', finishedAt: '2026-11-25T09:00:00.000Z' }),
    ];
    const h = await openJobs(agent);
    await waitFor(() => expect(rows().length).toBe(2));
    fireEvent.click(within(row('done-1')).getByRole('button', { name: 'Delete old.blend and its frames' }));
    expect(h.agent.mutations()).toEqual([]);
    fireEvent.click(within(row('done-1')).getByRole('button', { name: 'Delete job and frames' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'DELETE', path: '/api/v1/jobs/done-1', body: undefined }]));
    await waitFor(() => expect(rows().map((r) => r.dataset.jobId)).toEqual(['done-2']));
    act(() => h.socket().receive({ type: 'job-removed', id: 'done-2' }));
    await waitFor(() => expect(rows()).toEqual([]));
  });
});
});
