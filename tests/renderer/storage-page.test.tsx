import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { GIB } from '../../protocol/index.js';
import { FakeAgent, json, makeStorageView, PIECE_A, PIECE_B } from './fake-agent.js';
import { freshPageForEachTest, renderDashboard } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/storage');
});

async function openStorage(setup: (agent: FakeAgent) => void = () => undefined) {
  const agent = new FakeAgent();
  setup(agent);
  const h = await renderDashboard({ agent });
  await screen.findByRole('heading', { name: 'Storage', level: 1 });
  await screen.findByTestId('storage-disk');
  return h;
}

const row = (cid: string) => screen.getAllByTestId('piece-row').find((r) => r.dataset.cid === cid)!;

describe('storage page', () => {
  it('shows the disk figures exactly as the agent reports them, in GiB', async () => {
    // Available is deliberately not cap minus used: the page must show the agent's figure, not redo it.
    await openStorage((a) => (a.storageView = { ...makeStorageView(), disk: { ...makeStorageView().disk!, availableBytes: 123_456_789_012 } }));
    const disk = screen.getByTestId('storage-disk');
    const figure = (id: string) => within(disk).getByTestId(id);
    expect(figure('disk-used').textContent).toBe('8.00 GiB');
    expect(figure('disk-used').getAttribute('title')).toBe('8,590,000,128 bytes');
    expect(figure('disk-cap').textContent).toBe('200.00 GiB');
    expect(figure('disk-available').textContent).toBe('114.98 GiB');
    expect(figure('disk-free').textContent).toBe('570.29 GiB');
    expect(figure('disk-total').textContent).toBe('931.51 GiB');
    expect(figure('disk-reserve').textContent).toBe('18.63 GiB');
    expect(screen.getByTestId('storage-used-line').textContent).toBe('8.00 GiB used of 200.00 GiB allocated');
    // The cap field shows the real free space of that disk next to it.
    expect(screen.getByText(/has 570\.29 GiB free of 931\.51 GiB; 18\.63 GiB of it is always left free/)).toBeTruthy();
    expect(screen.getByTestId('storage-earning-note').textContent).toMatch(/earns only while this machine is on and online.*nothing stored here earns yet/);
  });

  it('says no disk is shared when no folder is set, and why a folder cannot be read', async () => {
    await openStorage((a) => (a.storageView = { ...makeStorageView(), settings: { folder: null, capBytes: 0 }, disk: null, pieces: [], proofs: [] }));
    expect(screen.getByTestId('storage-disk').textContent).toContain('No folder chosen');
    expect(screen.getByText('No pieces stored yet.')).toBeTruthy();
    expect(screen.getByText(/No proofs yet/)).toBeTruthy();
  });

  it('shows the agent’s problem with the folder', async () => {
    await openStorage((a) => (a.storageView = { ...makeStorageView(), disk: null, problem: 'The folder /mnt/spare/offhours is gone (is the disk mounted?).' }));
    expect(screen.getByTestId('storage-problem').textContent).toBe('The folder /mnt/spare/offhours is gone (is the disk mounted?).');
  });

  it('saves exactly the folder and the cap, typed in GiB and sent in bytes', async () => {
    const h = await openStorage();
    expect((screen.getByLabelText('Cap') as HTMLInputElement).value).toBe('200');
    fireEvent.change(screen.getByLabelText('Storage folder'), { target: { value: ' /srv/offhours ' } });
    fireEvent.change(screen.getByLabelText('Cap'), { target: { value: '37,5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save folder and cap' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { storage: { folder: '/srv/offhours', capBytes: 37.5 * GIB } } }]));
    expect(await screen.findByText('Saved')).toBeTruthy();
    expect(h.agent.settings.storage).toEqual({ folder: '/srv/offhours', capBytes: 40_265_318_400 });
  });

  it('keeps a cap of odd bytes exact when only the folder changes', async () => {
    const odd = 100 * GIB + 12_345;
    const h = await openStorage((a) => {
      a.storageView = { ...makeStorageView(), settings: { folder: '/mnt/spare/offhours', capBytes: odd } };
      a.settings = { ...a.settings, storage: a.storageView.settings };
    });
    expect((screen.getByLabelText('Cap') as HTMLInputElement).value).toBe('100.00');
    fireEvent.change(screen.getByLabelText('Storage folder'), { target: { value: '/srv/offhours' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save folder and cap' }));
    await waitFor(() => expect(h.agent.mutations()[0]?.body).toEqual({ storage: { folder: '/srv/offhours', capBytes: odd } }));
  });

  it('refuses a cap that is no number before sending', async () => {
    const h = await openStorage();
    const cap = screen.getByLabelText('Cap');
    fireEvent.change(cap, { target: { value: 'lots' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save folder and cap' }));
    await waitFor(() => expect(cap.getAttribute('aria-invalid')).toBe('true'));
    expect(h.agent.mutations()).toEqual([]);
  });

  it('shows the agent’s field error next to the folder field, not as the global alert', async () => {
    await openStorage();
    const folder = screen.getByLabelText('Storage folder');
    fireEvent.change(folder, { target: { value: '/nowhere' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save folder and cap' }));
    await waitFor(() => expect(folder.getAttribute('aria-invalid')).toBe('true'));
    const described = folder.getAttribute('aria-describedby')!.split(' ');
    expect(described.map((id) => document.getElementById(id)?.textContent)).toContain('no such folder');
    expect(screen.getByLabelText('Cap').getAttribute('aria-invalid')).toBeNull();
    expect(screen.queryByTestId('action-error')).toBeNull();
  });

  it('shows a relative path as a field error before sending', async () => {
    const h = await openStorage();
    const file = screen.getByLabelText('File to store');
    fireEvent.change(file, { target: { value: 'backup.tar' } });
    fireEvent.click(screen.getByRole('button', { name: 'Store this file' }));
    await waitFor(() => expect(file.getAttribute('aria-invalid')).toBe('true'));
    expect(h.agent.mutations()).toEqual([]);
  });

  it('adds a file and lists its ingest with its state and reason', async () => {
    const h = await openStorage();
    fireEvent.change(screen.getByLabelText('File to store'), { target: { value: '/home/ada/photos.tar' } });
    fireEvent.click(screen.getByRole('button', { name: 'Store this file' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/storage/pieces', body: { file: '/home/ada/photos.tar' } }]));
    const ingest = await screen.findByTestId('ingest-row');
    expect(ingest.textContent).toContain('/home/ada/photos.tar');
    expect(within(ingest).getByTestId('ingest-state').textContent).toBe('waiting');
    expect(within(ingest).getByTestId('ingest-reason').textContent).toBe('Waiting: your rules do not allow disk work right now.');
  });

  it('shows a failed ingest with its reason', async () => {
    await openStorage((a) => {
      a.storageView = {
        ...makeStorageView(),
        ingests: [{ id: 'i1', file: '/home/ada/huge.iso', state: 'failed', reason: 'The cap is full: 2.00 GiB may still be stored.', cid: null, at: '2025-01-06T09:00:00.000Z' }],
      };
    });
    const ingest = screen.getByTestId('ingest-row');
    expect(within(ingest).getByTestId('ingest-state').textContent).toBe('failed');
    expect(within(ingest).getByTestId('ingest-reason').textContent).toBe('The cap is full: 2.00 GiB may still be stored.');
  });

  it('explains a 409 storage_off in the form', async () => {
    await openStorage((a) => (a.storageView = { ...makeStorageView(), settings: { folder: null, capBytes: 0 }, disk: null }));
    fireEvent.change(screen.getByLabelText('File to store'), { target: { value: '/home/ada/photos.tar' } });
    fireEvent.click(screen.getByRole('button', { name: 'Store this file' }));
    expect((await screen.findByTestId('add-refusal')).textContent).toContain('Choose a storage folder');
    expect(screen.queryByTestId('action-error')).toBeNull();
  });

  it('lists pieces with sizes, state, last proof and integrity, the CID shortened with the full one kept', async () => {
    await openStorage((a) => {
      const view = makeStorageView();
      view.pieces[1] = { ...view.pieces[1]!, state: 'corrupt', lastScrub: { at: '2025-01-06T09:05:00.000Z', ok: false, problem: 'the commitment no longer matches' } };
      a.storageView = view;
    });
    const a = row(PIECE_A);
    const cid = within(a).getByTestId('piece-cid');
    expect(cid.textContent).toBe('baga6ea4se…xh5mbi');
    expect(cid.getAttribute('title')).toBe(PIECE_A);
    expect(a.textContent).toContain('3.00 GiB');
    expect(a.textContent).toContain('4.00 GiB');
    expect(within(a).getByTestId('piece-state').textContent).toBe('sealed');
    expect(within(a).getByTestId('piece-proof').textContent).toMatch(/^5\/5 /);
    expect(within(a).getByTestId('piece-scrub').textContent).toMatch(/^intact /);
    const b = row(PIECE_B);
    expect(b.textContent).toContain('127 B');
    expect(b.textContent).toContain('128 B');
    expect(within(b).getByTestId('piece-state').textContent).toBe('corrupt');
    expect(within(b).getByTestId('piece-state').className).toContain('badge-danger');
    expect(within(b).getByTestId('piece-scrub').textContent).toContain('the commitment no longer matches');
    expect(within(b).getByTestId('piece-proof').textContent).toBe('not proved yet');
  });

  it('“Prove now” sends the challenges and shows 5/5 verified', async () => {
    const h = await openStorage();
    fireEvent.click(within(row(PIECE_B)).getByRole('button', { name: /^Prove now/ }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'POST', path: `/api/v1/storage/pieces/${PIECE_B}/prove`, body: { challenges: 5 } }]));
    expect((await within(row(PIECE_B)).findByTestId('piece-outcome')).textContent).toBe('5/5 verified');
    // The new check reaches the row and the history from the agent.
    await waitFor(() => expect(within(row(PIECE_B)).getByTestId('piece-proof').textContent).toMatch(/^5\/5 /));
    await waitFor(() => expect(screen.getAllByTestId('proof-row')).toHaveLength(3));
  });

  it('“Prove now” shows a failed proof with its problem', async () => {
    await openStorage((a) => {
      a.proveAnswer = (cid, challenges) => ({
        cid,
        at: '2025-01-06T10:00:00.000Z',
        challenges,
        passed: 4,
        problem: 'leaf 9: the Merkle path does not lead to the root',
        results: [0, 1, 2, 3, 9].map((leaf) => ({ leaf, ok: leaf !== 9 })),
        seed: 'cd'.repeat(32),
      });
    });
    fireEvent.click(within(row(PIECE_A)).getByRole('button', { name: /^Prove now/ }));
    const outcome = await within(row(PIECE_A)).findByTestId('piece-outcome');
    expect(outcome.textContent).toBe('Failed: 4/5 verified. leaf 9: the Merkle path does not lead to the root');
    expect(screen.queryByTestId('action-error')).toBeNull();
  });

  it('shows a refused proof in the row, not as the global alert', async () => {
    await openStorage((a) => (a.proveAnswer = () => json({ error: { code: 'busy', message: 'A proof of this piece is already running.' } }, 409)));
    fireEvent.click(within(row(PIECE_A)).getByRole('button', { name: /^Prove now/ }));
    expect((await within(row(PIECE_A)).findByTestId('piece-outcome')).textContent).toBe('Could not prove: A proof of this piece is already running.');
    expect(screen.queryByTestId('action-error')).toBeNull();
  });

  it('“Check integrity” shows a piece that turned corrupt', async () => {
    const h = await openStorage((a) => {
      a.scrubAnswer = (p) => ({ ...p, state: 'corrupt', lastScrub: { at: '2025-01-06T10:00:00.000Z', ok: false, problem: 'the commitment no longer matches' } });
    });
    fireEvent.click(within(row(PIECE_A)).getByRole('button', { name: /^Check integrity/ }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'POST', path: `/api/v1/storage/pieces/${PIECE_A}/scrub`, body: undefined }]));
    expect((await within(row(PIECE_A)).findByTestId('piece-outcome')).textContent).toMatch(/^Corrupt/);
    expect(within(row(PIECE_A)).getByTestId('piece-state').textContent).toBe('corrupt');
  });

  it('does not offer proofs for a piece still sealing', async () => {
    await openStorage((a) => {
      const view = makeStorageView();
      view.pieces[1] = { ...view.pieces[1]!, state: 'sealing' };
      a.storageView = view;
    });
    expect((within(row(PIECE_B)).getByRole('button', { name: /^Prove now/ }) as HTMLButtonElement).disabled).toBe(true);
    expect(within(row(PIECE_B)).getByTestId('piece-state').textContent).toBe('sealing');
  });

  it('lists the proof history, passed and failed', async () => {
    await openStorage();
    const history = screen.getByTestId('proof-history');
    expect(within(history).getByTestId('proof-summary').textContent).toBe('1 passed, 1 failed (the last 2).');
    const [passed, failed] = within(history).getAllByTestId('proof-row');
    expect(passed!.dataset.passed).toBe('true');
    expect(passed!.textContent).toContain('passed 5/5 verified');
    expect(within(passed!).getByTestId('piece-cid').getAttribute('title')).toBe(PIECE_A);
    expect(failed!.dataset.passed).toBe('false');
    expect(failed!.textContent).toContain('failed 3/5 verified');
    expect(failed!.textContent).toContain('leaf 17: the Merkle path does not lead to the root');
  });
});
