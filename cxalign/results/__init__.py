"""The results dashboard and its downloads (the PDF), for the people who may read them."""
