"""hookwire's built-in plugins, loaded through the ``hookwire`` entry-point group like any other."""
