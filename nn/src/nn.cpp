// curv::nn — explicit instantiations for float and double.
