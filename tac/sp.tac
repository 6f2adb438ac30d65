# twistd -ny tac/sp.tac : the SP role; with no upstream it starts the built-in simulator.
# Add upstreams with "--upstream", "cmpp://SPID:SECRET@HOST:PORT?src_id=..." below.
from twisted.application.service import Application

from smsgw.tap import Options, makeService

options = Options()
options.parseOptions(["--role=sp"])
application = Application("smsgw-sp")
makeService(options).setServiceParent(application)
