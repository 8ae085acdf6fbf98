// Networks: the hubs this machine works for, its connection to each, what each is having it do, its
// reputation there, and what each has paid in verified vouchers.
import { PageHeader } from '../components/page-header.js';
import { AddHubCard } from '../networks/add-hub.js';
import { HubsCard } from '../networks/hubs-table.js';
import { useNetworksView } from '../networks/use-networks-view.js';

export function NetworksPage() {
  const { view, error, reload, putHub, dropHub } = useNetworksView();
  return (
    <>
      <PageHeader title="Networks" subtitle="The hubs this machine works for, and its connection to each." />
      <div className="banner banner-info" data-testid="networks-leasing-note">
        <p className="banner-text">
          Offhours signs in to each hub with this machine’s node key, registers your payout address and what this machine can do, and takes work only
          while your rules allow it: a pause hands the work back at once, “finish current” lets it finish.{' '}
          {view && !view.leasing && 'Sharing is off or paused now, so no work is being taken.'}
        </p>
      </div>
      {error && (
        <div className="banner banner-danger" role="alert" data-testid="networks-error">
          <p className="banner-text">Could not load the networks: {error}</p>
        </div>
      )}
      <div className="page-grid">
        {view ? (
          <HubsCard
            hubs={view.hubs}
            onRemoved={(id) => {
              dropHub(id);
              reload();
            }}
          />
        ) : (
          !error && (
            <section className="card">
              <p className="muted">Loading the networks…</p>
            </section>
          )
        )}
        <AddHubCard
          onAdded={(hub) => {
            putHub(hub);
            reload();
          }}
        />
      </div>
    </>
  );
}
