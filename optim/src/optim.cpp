// curv::optim — explicit instantiations for float and double.
