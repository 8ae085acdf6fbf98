// Networks: the hubs this machine works for and its connection to each. Leasing work from hubs is
// not built yet, and the page says so: a connected hub that never sends work would otherwise look
// like a fault.
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
          Offhours signs in to each hub with this machine’s node key, registers your payout address and what this machine can do, and tells the hub when it
          may work. Taking work from hubs is not built yet: no hub runs anything here, and nothing is earned from hubs yet.
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
