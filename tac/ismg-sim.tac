# twistd -ny tac/ismg-sim.tac : a fake ISMG with the default options
# (CMPP 2.0 on 127.0.0.1:7890, control API on 127.0.0.1:8081, the demo account).
from twisted.application.service import Application

from smsgw.tap import Options, makeService

options = Options()
options.parseOptions(["--role=ismg-sim"])
application = Application("smsgw-ismg-sim")
makeService(options).setServiceParent(application)
