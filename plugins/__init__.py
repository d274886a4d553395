"""hookwire's built-in plugins, loaded through the ``sdk`` entry-point group like any other."""
