"""DSLR cameras through libgphoto2 (python-gphoto2): the layer nocturna owns
(:mod:`.layer`), its real implementation (:mod:`.libgphoto2`) and its stand-in
(:mod:`.standin`), raw files (:mod:`.raw`, :mod:`.dng`) and the camera driver
(:mod:`.camera`)."""
