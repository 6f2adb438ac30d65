# twistd -ny tac/network.tac : a carrier network for test benches, in one process:
#   a GNS (CMPP 2.0 on 127.0.0.1:9168, control API :8082),
#   ISMG1 001001 (SP port 7890, control :8081, CMPP_FWD :7930), homes 139…,
#   ISMG2 002002 (SP port 7891, control :8083, CMPP_FWD :7931), homes 138….
# The configurations are ../simulator/network/*.toml, next to this file (SMSGW_NETWORK_DIR overrides
# where they are read from). See the README, "A carrier network".
import os

from twisted.application.service import Application, MultiService

from smsgw.tap import Options, makeService

# Next to this file, not the working directory: twistd -ny runs it from anywhere.
here = os.environ.get("SMSGW_NETWORK_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, "simulator", "network"
)
application = Application("smsgw-network")
network = MultiService()
network.setServiceParent(application)
for role, name in (("gns-sim", "gns"), ("ismg-sim", "ismg1"), ("ismg-sim", "ismg2")):
    options = Options()
    options.parseOptions([f"--role={role}", f"--config={os.path.join(here, name + '.toml')}"])
    service = makeService(options)
    service.setName(name)
    service.setServiceParent(network)
