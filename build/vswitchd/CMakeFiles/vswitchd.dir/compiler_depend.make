# Empty compiler generated dependencies file for vswitchd.
# This may be replaced when dependencies are built.
