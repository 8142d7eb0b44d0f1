// curv::datasets — explicit instantiations for float and double.
