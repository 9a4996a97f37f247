file(REMOVE_RECURSE
  "CMakeFiles/vswitchctl.dir/vswitchctl.cc.o"
  "CMakeFiles/vswitchctl.dir/vswitchctl.cc.o.d"
  "vswitchctl"
  "vswitchctl.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/vswitchctl.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
