"""azcam compatibility: the azcam command protocol, its tools, detector geometry, file
types, and the sendimage / image-server protocol."""
