// Where pieces are kept and how much of that disk Offhours may fill. The cap is typed in GiB, the
// unit every other size on the page uses, next to the real free space of the disk the agent reads.
import { useId, useState } from 'react';
import type { FieldError, StorageSettings, StorageView } from '../../protocol/index.js';
import { TextField } from '../power/text-field.js';
import { canAct, useAgent } from '../use-agent.js';
import { bytesOfGibText, formatBytes, gibText } from './words.js';

const FOLDER = 'storage.folder';
const CAP = 'storage.capBytes';

export function AllocationForm({ view, onSaved }: { view: StorageView; onSaved: (settings: StorageSettings) => void }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const [saved, setSavedSettings] = useState(view.settings);
  const [folder, setFolder] = useState(view.settings.folder ?? '');
  const [cap, setCap] = useState(gibText(view.settings.capBytes));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [otherError, setOtherError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const fieldErrors = (path: string) => errors.filter((f) => f.path === path);
  const formErrors = errors.filter((f) => f.path !== FOLDER && f.path !== CAP);

  const save = async () => {
    setDone(false);
    setOtherError(null);
    // An untouched cap keeps its exact bytes: the two decimals shown must not move it.
    const capBytes = cap === gibText(saved.capBytes) ? saved.capBytes : bytesOfGibText(cap);
    if (Number.isNaN(capBytes)) {
      setErrors([{ path: CAP, message: 'A size in GiB, such as 100 or 37.5.' }]);
      return;
    }
    const settings: StorageSettings = { folder: folder.trim() === '' ? null : folder.trim(), capBytes };
    const result = await agent.saveStorageSettings(settings);
    if (!result.ok) {
      const fields = result.error.fields ?? [];
      setErrors(fields);
      if (fields.length === 0) setOtherError(result.error.message);
      return;
    }
    setErrors([]);
    setDone(true);
    setSavedSettings(result.value.storage);
    setFolder(result.value.storage.folder ?? '');
    setCap(gibText(result.value.storage.capBytes));
    onSaved(result.value.storage);
  };

  const disk = view.disk;
  const capHint = disk
    ? `The disk of ${disk.folder} has ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)}; ${formatBytes(disk.reserveBytes)} of it is always left free.`
    : 'The free space of the folder’s disk shows here once the folder is saved.';

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="storage-settings">
      <h2 id={`${ids}-title`} className="card-title">
        Folder and cap
      </h2>
      <form
        className="queue-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <TextField
          className="form-field-wide"
          label="Storage folder"
          value={folder}
          onChange={(v) => {
            setFolder(v);
            setDone(false);
          }}
          errors={fieldErrors(FOLDER)}
          placeholder="/mnt/spare/offhours"
          hint="An absolute path on the machine the agent runs on. Leave it empty to share no disk."
        />
        <TextField
          className="form-field-wide"
          label="Cap"
          unit="GiB"
          inputMode="decimal"
          value={cap}
          onChange={(v) => {
            setCap(v);
            setDone(false);
          }}
          errors={fieldErrors(CAP)}
          hint={capHint}
        />
        {formErrors.length > 0 && (
          <p className="field-error form-field-wide" data-testid="field-error">
            {formErrors.map((f) => f.message).join(' · ')}
          </p>
        )}
        {otherError && (
          <p className="field-error form-field-wide" role="alert">
            {otherError}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === 'storage-settings'}>
            Save folder and cap
          </button>
          {done && (
            <span className="form-status" role="status">
              Saved
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
