file(REMOVE_RECURSE
  "libvdemesh_proto.a"
)
