# Empty dependencies file for vdemesh_proto.
# This may be replaced when dependencies are built.
