# Empty dependencies file for vswitchctl.
# This may be replaced when dependencies are built.
