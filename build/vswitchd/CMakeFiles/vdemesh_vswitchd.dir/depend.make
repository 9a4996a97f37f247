# Empty dependencies file for vdemesh_vswitchd.
# This may be replaced when dependencies are built.
