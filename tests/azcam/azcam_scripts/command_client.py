"""azcam's own socket client (azcam.sockets.SocketInterface, unmodified) against a
command server: run with azcam's Python as ``command_client.py PORT``. Prints one JSON
object with every reply as azcam's client returns it, and what azcam's own image
reader (azcam.image.Image) makes of the file the exposure wrote."""

import json
import sys

from azcam.image import Image
from azcam.sockets import SocketInterface

client = SocketInterface("127.0.0.1", int(sys.argv[1]))
replies = {"open": client.open()}
replies["set_par"] = client.command("parameters.set_par imagetitle 'azcam proof'")
replies["get_par"] = client.command("parameters.get_par imagetitle")
replies["get_par_version"] = client.command("parameters.get_par version")
replies["expose"] = client.command("exposure.expose 0.5 object 'M 31 field'")
replies["get_status"] = client.command("exposure.get_status")
replies["lastfilename"] = client.command("parameters.get_par lastfilename")
replies["bad"] = client.command("exposure.expose abc")
replies["echo"] = client.command("echo still here")
client.close()

image = Image(replies["lastfilename"][1])
image.assemble(1)
replies["azcam_image"] = {"shape": list(image.buffer.shape),
                          "mean": float(image.buffer.mean()),
                          "num_extensions": int(image.num_extensions)}
print(json.dumps(replies))
