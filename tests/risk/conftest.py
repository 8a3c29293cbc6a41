from tests.api.conftest import anonymous, api_as  # noqa: F401 - the API tests' fixtures, for the risk endpoints
from tests.web.conftest import client_for  # noqa: F401 - the pages' fixture
